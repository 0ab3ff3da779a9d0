import ArgumentParser
import Foundation
import QRCode
import QSMClient

extension QSM {
    struct Mfa: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn the second factor (TOTP codes from an authenticator app) on or off, or renew recovery codes.",
            discussion: "With the factor on, qsm login asks for a code after the password (docs/mfa.md).",
            subcommands: [Enable.self, Disable.self, RecoveryCodes.self])
    }
}

extension QSM.Mfa {
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol an authenticator app: shows a QR code and its otpauth:// URI, asks for the first code, "
                + "and prints ten recovery codes once.")
        @Flag(name: .long, help: "Print only the URI (first line), then read the first code from standard input: for scripts.")
        var codeStdin = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let token = try SessionStore.token()
            // Said before a secret is drawn: without a terminal nobody could type the first code.
            if !codeStdin && isatty(STDIN_FILENO) != 1 {
                throw ValidationError("no terminal to ask for the first code: use --code-stdin")
            }
            try await runClient {
                let connection = try await options.connect()
                let uri = try await connection.call(BrokerAPI.StartSecondFactor(token: token)).uri
                if codeStdin {
                    FileHandle.standardOutput.write(Data((uri + "\n").utf8))  // unbuffered: the script waits for it
                } else {
                    // On the terminal; with --json on standard error, so standard output stays one JSON object.
                    let screen = options.json ? STDERR_FILENO : STDOUT_FILENO
                    var text = ""
                    if isatty(screen) == 1, let qr = try? QRCode(encoding: uri) {
                        text += "Scan this with your authenticator app:\n\n" + qr.terminalText() + "\n\n"
                    }
                    text += "Or enter this URI (it holds the secret; it is shown only now):\n\(uri)\n\n"
                    FileHandle(fileDescriptor: screen).write(Data(text.utf8))
                }
                let first = try CodeInput.read(fromStdin: codeStdin, prompt: "First code from the app: ")
                let codes = try await connection.call(BrokerAPI.ConfirmSecondFactor(token: token, code: first)).recoveryCodes
                if options.json {
                    Output.json(["uri": uri, "recoveryCodes": codes])
                } else {
                    print("second factor on. Recovery codes, each good once, shown only now (keep them offline):")
                    for recovery in codes { print("  \(recovery)") }
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn the second factor off (asks for the password and a code).")
        @Flag(name: .long, help: "Read the password, then the code, from the first two lines of standard input.")
        var passwordStdin = false
        @Option(name: .long, help: "A current code or a recovery code, instead of asking for it.") var code: String?
        @OptionGroup var options: ClientOptions

        func run() async throws {
            if let code { try CodeInput.check(code) }
            let token = try SessionStore.token()
            let password = try PasswordInput.read(prompt: "Password: ", fromStdin: passwordStdin)
            let given = try code ?? CodeInput.read(fromStdin: passwordStdin)
            try await runClient {
                _ = try await CodeInput.calling {
                    try await options.connect().call(BrokerAPI.DisableSecondFactor(token: token, password: password, code: given))
                }
                if options.json { Output.json([:] as [String: Any]) } else { print("second factor off") }
            }
        }
    }

    struct RecoveryCodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "recovery-codes",
            abstract: "Replace the recovery codes with ten new ones (asks for a code; the old codes stop working).")
        @Option(name: .long, help: "A current code or a recovery code, instead of asking for it.") var code: String?
        @Flag(name: .long, help: "Read the code from the first line of standard input.") var codeStdin = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            if let code { try CodeInput.check(code) }
            let token = try SessionStore.token()
            let given = try code ?? CodeInput.read(fromStdin: codeStdin)
            try await runClient {
                let codes = try await CodeInput.calling {
                    try await options.connect().call(BrokerAPI.NewRecoveryCodes(token: token, code: given))
                }.recoveryCodes
                if options.json {
                    Output.json(["recoveryCodes": codes])
                } else {
                    print("new recovery codes, each good once, shown only now (the old ones no longer work):")
                    for recovery in codes { print("  \(recovery)") }
                }
            }
        }
    }
}

/// Second-factor codes from the user: checked for form before anything is sent, asked for on the
/// terminal, or read from standard input.
enum CodeInput {
    static let rule = "a code is the 6 digits of the authenticator app, or a recovery code (xxxxx-xxxxx)"

    /// Refuses what cannot be a code, before a password is asked for or anything sent.
    static func check(_ code: String) throws {
        let digits = code.utf8.count == 6 && code.utf8.allSatisfy { (0x30...0x39).contains($0) }
        let recovery = code.utf8.filter { $0 != UInt8(ascii: "-") }.count == 10
            && code.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x7a).contains($0 | 0x20) || $0 == UInt8(ascii: "-") }
        guard digits || recovery else { throw ValidationError("--code: \(rule)") }
    }

    /// The code from the next line of standard input, or asked for on the terminal.
    static func read(fromStdin: Bool, prompt: String = "Code from the authenticator app (or a recovery code): ") throws -> String {
        if fromStdin {
            guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("standard input has no line for the second-factor code")
            }
            return line.trimmingCharacters(in: .whitespaces)
        }
        return try ask(prompt)
    }

    /// Asks on the terminal (a recovery code is a secret too: not echoed).
    static func ask(_ prompt: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("no terminal to ask for the code: use --code, or --code-stdin with qsm mfa enable")
        }
        return try PasswordInput.read(prompt: prompt, fromStdin: false).trimmingCharacters(in: .whitespaces)
    }

    /// Runs a call that took a code: a wrong one is said as such (the daemon's AuthenticationFailed does
    /// not say whether the password or the code was wrong, and neither does this).
    static func calling<Reply>(_ body: () async throws -> Reply) async throws -> Reply {
        do {
            return try await body()
        } catch {
            guard case QSMClientError.broker(.authenticationFailed) = error else { throw error }
            FileHandle.standardError.write(Data("qsm: wrong password or code (refused and recorded)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Logs in on `connection`, giving a code when the daemon asks for one: `code` if given, else the
    /// next line of standard input with --password-stdin, else asked on the terminal.
    static func login(
        _ connection: QSMConnection, user: String, password: String, code: String?, passwordStdin: Bool
    ) async throws -> BrokerAPI.Login.Reply {
        let refusal: QSMClientError
        do {
            return try await connection.call(BrokerAPI.Login(username: user, password: password, code: code))
        } catch {
            refusal = error
        }
        switch refusal {
        case .broker(.secondFactorRequired) where code == nil:
            let asked = try read(fromStdin: passwordStdin)
            return try await calling { try await connection.call(BrokerAPI.Login(username: user, password: password, code: asked)) }
        case .broker(.authenticationFailed) where code != nil:
            FileHandle.standardError.write(Data("qsm: wrong username, password or code\n".utf8))
            throw ExitCode(1)
        default:
            throw refusal
        }
    }
}
