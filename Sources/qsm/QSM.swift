import ArgumentParser

/// qsm: the command line of the qsm broker.
@main
struct QSM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qsm",
        abstract: "The qsm secure messaging broker's command line.",
        discussion: """
            Offline subcommands open a data directory read-only; they work while qsmd runs. \
            The socket subcommands (register, login, send, ...) arrive with the socket issue.
            """,
        subcommands: [Audit.self, Log.self])
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
