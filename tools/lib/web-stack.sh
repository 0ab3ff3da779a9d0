# Sourced by tools/browser-test, tools/screenshot-web and tools/bench web: a throwaway qsmd (cheap password
# hashing, data in a temporary directory) with its gateway socket, and qsm-web on a free loopback port.
# start_web_stack BIN_DIR: sets web_work (the directory), web_socket, web_gateway and web_url; the EXIT
# trap stops both and removes the directory.
web_qsmd_pid= web_pid= web_work=
# stop_pid PID: SIGTERM, then SIGKILL if it is still there after 15 s.
stop_pid() {
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
stop_web_stack() {
    if [ -n "$web_pid" ]; then stop_pid "$web_pid"; fi
    if [ -n "$web_qsmd_pid" ]; then stop_pid "$web_qsmd_pid"; fi
    [ -n "$web_work" ] && rm -rf "$web_work"
    web_pid= web_qsmd_pid= web_work=
}
start_web_stack() {
    local bin=$1 product
    for product in qsmd qsm-web; do
        [ -x "$bin/$product" ] || { echo "$0: $bin/$product is missing: build it first" >&2; return 1; }
    done
    web_work=$(mktemp -d /tmp/qsm-web.XXXXXX)
    trap stop_web_stack EXIT
    web_socket=$web_work/qsm.sock web_gateway=$web_work/gateway.sock
    echo '{"allowCheapPasswordHashingForTests": true, "passwordMemoryKiB": 8, "passwordIterations": 1}' > "$web_work/qsmd.json"
    "$bin/qsmd" --data "$web_work/data" --socket "$web_socket" --gateway-socket "$web_gateway" \
        --config "$web_work/qsmd.json" --log-level warning &
    web_qsmd_pid=$!
    for _ in $(seq 1 300); do [ -S "$web_socket" ] && break; sleep 0.1; done
    [ -S "$web_socket" ] || { echo "$0: qsmd did not start" >&2; return 1; }
    "$bin/qsm-web" --socket "$web_gateway" --listen 127.0.0.1:0 --log-level "${QSM_WEB_LOG_LEVEL:-info}" 2> "$web_work/web.log" &
    web_pid=$!
    web_url=
    for _ in $(seq 1 300); do
        web_url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$web_work/web.log" | head -1 || true)
        [ -n "$web_url" ] && break
        sleep 0.1
    done
    [ -n "$web_url" ] || { echo "$0: qsm-web did not start: $(cat "$web_work/web.log")" >&2; return 1; }
}
