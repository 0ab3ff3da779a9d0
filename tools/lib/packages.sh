# Sourced by tools/run, tools/test and tools/bench: installs Debian packages only when missing.
# ensure_packages PKG...: says what it installs, runs `apt-get update` first, needs root (or sudo).
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "qsm: installing missing Debian packages: ${missing[*]}" >&2
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "qsm: need root (or sudo) to install ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Packages every build needs (system-library targets CLMDB, CSodium and CQRencode).
QSM_BUILD_PACKAGES=(liblmdb-dev libsodium-dev libqrencode-dev pkg-config)
# Packages the test suite's independent cross-checks need.
QSM_TEST_PACKAGES=(python3-lmdb python3-protobuf protobuf-compiler python3-venv)
# The dashboard page is rendered in headless Chromium (with a font for its text) by the socket tests and
# tools/screenshot-dashboard.
QSM_TEST_PACKAGES+=(chromium fonts-dejavu-core)
# The second factor's QR code is read back: its SVG rendered to PNG (librsvg) and decoded (zbar).
QSM_TEST_PACKAGES+=(zbar-tools librsvg2-bin)
# tools/package: man pages need python3 (Debian's); the package is checked by lintian and installed into a
# throwaway Debian root made by debootstrap (tools/test-package).
QSM_PACKAGE_PACKAGES=(dpkg-dev lintian debootstrap python3)
# tools/browser-test drives qsm-web in that Chromium through Selenium (issue 17).
QSM_TEST_PACKAGES+=(chromium-driver python3-selenium)
# The event log on PostgreSQL (issue 20): the tests start a throwaway server (initdb, pg_ctl) as the postgres user.
QSM_TEST_PACKAGES+=(postgresql)
