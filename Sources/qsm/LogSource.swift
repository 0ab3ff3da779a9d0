import ArgumentParser
import Broker
import EventLog
import EventLogPostgres
import Foundation

/// Where an offline command reads a log: a data directory (LMDB) or a PostgreSQL store, never both.
struct LogSourceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The broker's data directory (as given to qsmd --data).", valueName: "DIR"))
    var data: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A log on PostgreSQL instead of a data directory: postgresql://USER@HOST:PORT/DB, with no password.",
            valueName: "URL"))
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp("A file whose first line is the --store password (else $PGPASSWORD).", valueName: "FILE"))
    var storePasswordFile: String?

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    func validate() throws {
        switch (data, store) {
        case (nil, nil): throw ValidationError("give --data DIR or --store URL")
        case (.some, .some): throw ValidationError("give --data DIR or --store URL, not both")
        case (nil, .some(let url)):
            do { _ = try PostgresLocation(url) } catch { throw ValidationError(error.description) }
        case (.some, nil):
            if case .some = storePasswordFile { throw ValidationError("--store-password-file goes with --store") }
        }
    }

    /// Opens the log read-only; a failure is one line on standard error and the documented exit status.
    func open() async throws -> any LogStore {
        if let data {
            return try openReadOnly(dataDirectory: data)
        }
        do {
            let location = try PostgresLocation(store ?? "")
            let password = try PostgresLocation.password(file: storePasswordFile)
            return try await PostgresLogStore.open(location, password: password, mode: .readOnly)
        } catch let error as EventLogError {
            fail("\(error)", status: openFailureStatus(error))
        } catch {
            fail("\(error)", status: 66)
        }
    }
}

extension QSM.Log {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a data directory's log into PostgreSQL, record for record, keeping its log id.",
            discussion: """
                The target database must be empty or hold an earlier copy of the same log (the copy then \
                resumes). Records, positions and chain hashes are the same bytes, so qsm audit verify --store \
                reports the same head hash as on the data directory. Progress goes to standard error.
                """)

        @Option(name: .long, help: ArgumentHelp("The data directory whose log is copied.", valueName: "DIR"))
        var from: String

        @Option(name: .long, help: ArgumentHelp("The target: postgresql://USER@HOST:PORT/DB, with no password.", valueName: "URL"))
        var to: String

        @Option(
            name: .long,
            help: ArgumentHelp("A file whose first line is the target's password (else $PGPASSWORD).", valueName: "FILE"))
        var storePasswordFile: String?

        func validate() throws {
            guard PostgresLocation.isURL(to) else {
                throw ValidationError("--to must be a postgresql:// URL (copying into a data directory is not supported)")
            }
            do { _ = try PostgresLocation(to) } catch { throw ValidationError(error.description) }
        }

        func run() async throws {
            let source = try openReadOnly(dataDirectory: from)
            let target: PostgresLogStore
            do {
                target = try await PostgresLogStore.open(
                    try PostgresLocation(to), password: try PostgresLocation.password(file: storePasswordFile),
                    expectedLogID: source.meta.logID, creating: source.meta)
            } catch {
                fail("\(error)", status: 1)
            }
            let head: LogHead
            do {
                head = try await LogCopy.copy(from: source, to: target) { copied, total in
                    FileHandle.standardError.write(Data("copying: \(copied) of \(total) events\n".utf8))
                }
            } catch {
                await target.close()
                fail("\(error)", status: 1)
            }
            await target.close()
            print("copied: \(target.location) holds \(head.position) events, head hash \(head.hash.hex)")
        }
    }
}
