import ArgumentParser
import Foundation
import QSMClient

extension QSM {
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user (asks for a password).")
        @Argument(help: "3-32 characters: a-z, 0-9, '_', '.', '-', starting with a letter.") var user: String
        @Flag(name: .long, help: "Read the password from the first line of standard input.") var passwordStdin = false
        @OptionGroup var options: ClientOptions

        /// What can be checked before a password is typed is checked first: the name, then the socket
        /// (connected before the prompt), then the first entry's length before asking for it again.
        func run() async throws {
            if let problem = PasswordRules.usernameProblem(user) { throw ValidationError("the username \(user): \(problem)") }
            try await runClient {
                let connection = try await options.connect()
                let password = try PasswordInput.read(prompt: "Password for \(user): ", fromStdin: passwordStdin)
                if let problem = PasswordRules.problem(password) { throw ValidationError("the password: \(problem); nothing was registered") }
                if !passwordStdin {
                    guard try PasswordInput.read(prompt: "Again: ", fromStdin: false) == password else {
                        throw ValidationError("the passwords differ; nothing was registered")
                    }
                }
                let answer = try await connection.callVerbatim(BrokerAPI.Register(username: user, password: password))
                if options.json { Output.json(answer) } else { print("registered \(answer.reply.username)") }
            }
        }
    }

    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a session; the token is kept in $QSM_HOME/session.json (mode 0600).")
        @Argument(help: "The username.") var user: String
        @Flag(name: .long, help: "Read the password from the first line of standard input (and a second-factor code, when one is needed, from the second).")
        var passwordStdin = false
        @Option(name: .long, help: "The second-factor code (6 digits, or a recovery code), instead of being asked for it.")
        var code: String?
        @OptionGroup var options: ClientOptions

        func run() async throws {
            if let code { try CodeInput.check(code) }
            let password = try PasswordInput.read(prompt: "Password for \(user): ", fromStdin: passwordStdin)
            try await runClient {
                let session = try await CodeInput.login(
                    options.connect(), user: user, password: password, code: code, passwordStdin: passwordStdin
                ).session
                let expiresAt = Int64(session.expiresAt)
                try SessionStore.save(token: session.token, username: user, expiresAt: expiresAt)
                if options.json {
                    Output.json(["username": user, "expiresAt": expiresAt, "sessionFile": SessionStore.path] as [String: Any])
                } else {
                    print("logged in as \(user) until \(Output.time(expiresAt))")
                }
            }
        }
    }

    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End the session and forget its token.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let token = try SessionStore.token()
            try await runClient {
                defer { SessionStore.remove() }
                _ = try await options.connect().call(BrokerAPI.Logout(token: token))
                if options.json { Output.json([:] as [String: Any]) } else { print("logged out") }
            }
        }
    }

    struct Whoami: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show who is logged in and until when, from the session file (qsmd is not asked).")
        @Flag(name: .long, help: "Print machine-readable JSON.") var json = false

        func run() throws {
            _ = try SessionStore.token()  // no session, or an expired one: the same line as every command
            let user = SessionStore.username() ?? "?"
            let expiresAt = SessionStore.expiresAt() ?? 0
            if json {
                Output.json(["username": user, "expiresAt": expiresAt, "sessionFile": SessionStore.path])
            } else {
                print("\(user) (session until \(Output.time(expiresAt)))")
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change your password; every session ends, log in again.")
        @Flag(name: .long, help: "Read the old and new passwords from the first two lines of standard input.") var passwordStdin = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let token = try SessionStore.token()
            let old = try PasswordInput.read(prompt: "Current password: ", fromStdin: passwordStdin)
            let new = try PasswordInput.read(prompt: "New password: ", fromStdin: passwordStdin)
            try await runClient {
                _ = try await options.connect().call(BrokerAPI.ChangePassword(token: token, oldPassword: old, newPassword: new))
                SessionStore.remove()
                if options.json { Output.json([:] as [String: Any]) } else { print("password changed: log in again") }
            }
        }
    }
}
