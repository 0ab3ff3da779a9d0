import ArgumentParser
import Broker
import Forensics
import Foundation
import Glibc
import QSMClient

/// Options of every command that talks to qsmd.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The daemon's socket (default: $QSM_SOCKET, else /run/qsm/qsm.sock when it exists, as an installed "
            + "qsmd serves it, else var/qsm/qsm.sock, where tools/run puts it, resolved only in a directory no "
            + "other user can write).", valueName: "PATH"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp(
        "The user qsmd runs as, by uid or name (default: $QSM_SERVER_UID). qsm talks only to a socket served "
            + "by root, by yourself or by this user.", valueName: "UID"))
    var serverUid: String?

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    /// The socket given by option or environment, else the system socket when it exists, else the default
    /// relative to the working directory.
    var socketPath: String {
        explicitSocket ?? (ServerCheck.systemSocketExists ? ServerCheck.systemSocket : ServerCheck.defaultSocket)
    }

    private var explicitSocket: String? {
        socket ?? ProcessInfo.processInfo.environment["QSM_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Connects, refusing a default socket in a directory others can write and a server that is not
    /// root, the caller or the configured user (SO_PEERCRED): every command sends a password or a token.
    func connect() async throws -> QSMConnection {
        let path = socketPath
        if path == ServerCheck.defaultSocket, explicitSocket == nil { try ServerCheck.checkDefaultSocketDirectories() }
        let trusted = try ServerCheck.trustedServerUID(serverUid ?? ProcessInfo.processInfo.environment["QSM_SERVER_UID"])
        let connection: QSMConnection
        do {
            connection = try await QSMConnection.connect(socketPath: path)
        } catch {
            throw ConnectionError(description: ConnectFailure.explain(path: path))
        }
        do {
            try await ServerCheck.checkServer(of: connection, socket: path, trusted: trusted)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }
}

/// Where `qsm login` keeps the session: $QSM_HOME/session.json (default ~/.qsm), mode 0600.
enum SessionStore {
    static var directory: String {
        if let home = ProcessInfo.processInfo.environment["QSM_HOME"], !home.isEmpty { return home }
        return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.qsm"
    }

    static var path: String { directory + "/session.json" }

    static func save(token: String, username: String, expiresAt: Int64) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONSerialization.data(withJSONObject: ["token": token, "username": username, "expiresAt": expiresAt])
        // Created 0600 before the token is written, never readable by others even for a moment.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        _ = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// The saved token; without one, one line telling the user to log in and exit status 69 (as for the
    /// daemon's own refusals). A session past its expiresAt is not sent (the daemon would refuse it and
    /// count each try as a stale token): the line says when it expired and the file is dropped.
    static func token(now: Date = Date()) throws -> String {
        func refuse(_ line: String) -> ExitCode {
            FileHandle.standardError.write(Data("qsm: \(line)\n".utf8))
            return ExitCode(69)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw refuse("not logged in (no session in \(path)): run qsm login USER")
        }
        warnIfOpenToOthers()
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let token = object["token"] as? String
        else { throw refuse("\(path) is not a session file: run qsm login USER to replace it") }
        let user = object["username"] as? String ?? "USER"
        if let expiresAt = (object["expiresAt"] as? NSNumber)?.int64Value, expiresAt > 0,
           Double(expiresAt) / 1_000_000 <= now.timeIntervalSince1970
        {
            remove()
            throw refuse("the session for \(user) expired at \(Output.time(expiresAt)); run qsm login \(user)")
        }
        return token
    }

    /// The session's end, in microseconds since the epoch, as the file records it.
    static func expiresAt() -> Int64? {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return (object["expiresAt"] as? NSNumber)?.int64Value
    }

    /// Warns, with the chmod that fixes it, when group or others may read the file: the token in it is
    /// the session (qsm writes it 0600; a copy or an editor may have widened it).
    static func warnIfOpenToOthers() {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o077 != 0 else { return }
        let mode = String(status.st_mode & 0o777, radix: 8)
        FileHandle.standardError.write(Data(
            "qsm: warning: \(path) holds your session token and is open to other users (mode \(mode)): run chmod 600 \(path)\n".utf8))
    }

    static func username() -> String? {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["username"] as? String
    }

    static func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The daemon's rules for names and passwords (the broker's own checks, at its default lengths), so
/// the command line refuses what qsmd would before anything is typed twice.
enum PasswordRules {
    /// Why qsmd would refuse `name` as a username, or nil.
    static func usernameProblem(_ name: String) -> String? {
        do { try Validation.username(name) } catch { return reason(error) }
        return nil
    }

    /// Why qsmd would refuse `password`, or nil.
    static func problem(_ password: String) -> String? {
        do { try Validation.password(password, configuration: BrokerConfiguration(dataDirectory: "")) } catch { return reason(error) }
        return nil
    }

    private static func reason(_ error: any Error) -> String {
        if let refusal = error as? BrokerError, case .invalidParameter(_, let reason) = refusal { return reason }
        return "\(error)"
    }
}

/// Passwords: prompted on the terminal without echo, or the first line of standard input.
enum PasswordInput {
    static func read(prompt: String, fromStdin: Bool) throws -> String {
        if fromStdin {
            guard let line = Swift.readLine(strippingNewline: true) else {
                throw ValidationError("--password-stdin: standard input is empty")
            }
            return line
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("no terminal to ask for the password: use --password-stdin")
        }
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        // The prompt only once echo is off: what is typed (or pasted) as soon as it shows is neither
        // echoed nor flushed away by TCSAFLUSH.
        FileHandle.standardError.write(Data(prompt.utf8))
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return Swift.readLine(strippingNewline: true) ?? ""
    }
}

/// Output helpers.
enum Output {
    /// Fields that hold a time, in microseconds since the epoch on the socket.
    static let timeKeys: Set<String> = ["at", "sentAt", "expiresAt"]

    /// Prints `object` as JSON with its times in RFC 3339 (UTC, microseconds), the form the offline
    /// commands (`qsm log export`, `qsm forensics`) write, so every --json output speaks one time format.
    static func json(_ object: Any) {
        let object = rfc3339Times(object)
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]),
           let text = String(data: data, encoding: .utf8)
        {
            print(text)
        }
    }

    /// Prints a reply's parameters as ``json(_:)`` does: exactly what qsmd said, with its times in RFC 3339.
    static func json<Reply>(_ verbatim: VerbatimReply<Reply>) { json(parameters(of: verbatim)) }

    /// One reply of a stream as ``jsonLine(_:)`` does.
    static func jsonLine<Reply>(_ verbatim: VerbatimReply<Reply>) { jsonLine(parameters(of: verbatim)) }

    /// The parameters of the reply message as Foundation's JSON objects, the form ``json(_:)`` prints
    /// (an empty object when the reply has none).
    static func parameters<Reply>(of verbatim: VerbatimReply<Reply>) -> Any {
        let message = (try? JSONSerialization.jsonObject(with: verbatim.message)) as? [String: Any]
        return message?["parameters"] ?? [String: Any]()
    }

    /// Microseconds since the epoch as a local ISO 8601 time.
    static func time(_ micros: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }

    /// Microseconds since the epoch (as the typed replies hold them) as a local ISO 8601 time.
    static func time(_ micros: Int) -> String { time(Int64(micros)) }

    /// One reply of a stream (admin events, alerts --follow, dashboard --watch) as one compact JSON line,
    /// times as ``json(_:)`` writes them: a stream's output is NDJSON, as `qsm log export`'s is.
    static func jsonLine(_ object: Any) {
        if let data = try? JSONSerialization.data(withJSONObject: rfc3339Times(object), options: [.sortedKeys]),
           let text = String(data: data, encoding: .utf8)
        {
            print(text)
        }
    }

    /// `object` with every number under a time key written as an RFC 3339 string.
    static func rfc3339Times(_ object: Any) -> Any {
        if let dictionary = object as? [String: Any] {
            var converted: [String: Any] = [:]
            for (key, value) in dictionary {
                if timeKeys.contains(key), let number = value as? NSNumber, !(value is Bool) {
                    converted[key] = Timestamps.string(micros: number.int64Value)
                } else {
                    converted[key] = rfc3339Times(value)
                }
            }
            return converted
        }
        if let array = object as? [Any] { return array.map(rfc3339Times) }
        return object
    }
}

/// Runs `body`, turning connection and call errors into one line on standard error and exit status 1
/// (64 for input qsmd refused, 69 when qsmd cannot be reached).
func runClient(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as QSMClientError {
        switch error {
        case .connection(let reason):
            FileHandle.standardError.write(Data("qsm: qsmd: \(reason)\n".utf8))
            throw ExitCode(69)  // EX_UNAVAILABLE
        default:
            FileHandle.standardError.write(Data("qsm: \(CallFailure.explain(error))\n".utf8))
            // The daemon ended the session (expiry, logout, password change): sending the token again would
            // only be refused again, and counted as a stale token.
            if CallFailure.endsSession(error) { SessionStore.remove() }
            throw ExitCode(CallFailure.isInputError(error) ? 64 : 1)
        }
    } catch let error as ConnectionError {
        FileHandle.standardError.write(Data("qsm: \(error)\n".utf8))
        throw ExitCode(69)  // EX_UNAVAILABLE
    }
}
