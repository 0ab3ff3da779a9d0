/// The release of qsm these binaries are: `qsm --version`, `qsmd --version`, and the version qsmd
/// reports in org.varlink.service.GetInfo.
public enum Release {
    public static let version = "0.1.0"
}
