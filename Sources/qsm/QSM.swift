import ArgumentParser
import Broker

/// qsm: the command line of the qsm broker.
@main
struct QSM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qsm",
        abstract: "The qsm secure messaging broker's command line.",
        discussion: """
            Socket subcommands talk to qsmd over --socket (or $QSM_SOCKET; default /run/qsm/qsm.sock when it \
            exists, else var/qsm/qsm.sock, where tools/run puts it); a login keeps its session in $QSM_HOME/session.json (default ~/.qsm), mode \
            0600. Offline subcommands (audit, log) open a data directory read-only and work while qsmd runs. \
            --socket, --server-uid, --data and --json may also come before the subcommand (qsm --json inbox). \
            Errors are one line starting "qsm:" on standard error; with --json a command's output is JSON on \
            standard output and its errors stay on standard error, with the exit status saying which happened.
            """,
        version: Release.version,
        subcommands: [
            Register.self, Login.self, Logout.self, Whoami.self, Passwd.self, Mfa.self, Key.self, Send.self, Inbox.self, Read.self,
            History.self, Dashboard.self, Alerts.self, Admin.self, Audit.self, Log.self, Forensics.self, Demo.self,
        ])

    /// Global options before the subcommand, "did you mean", and one `qsm:` prefix for every error.
    static func main() async {
        await CommandLineEntry.main(Array(CommandLine.arguments.dropFirst()))
    }
}

/// Options of every offline subcommand.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The broker's data directory (as given to qsmd --data).", valueName: "DIR"))
    var data: String

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    /// The event log inside the data directory.
    var logDirectory: String { data + "/log" }
}
