import ArgumentParser
import Foundation

/// How qsm reads its command line before ArgumentParser does, and how it reports what went wrong.
///
/// Three conventions people expect of a command line that ArgumentParser alone does not give: options
/// that apply to every command may come before the subcommand (`qsm --socket X inbox`), a mistyped
/// subcommand gets "did you mean", and every error is one line starting `qsm:` (a usage error adds the
/// usage; an error while running does not).
enum CommandLineEntry {
    /// Options every socket (or offline) command takes, which may be given before the subcommand.
    static let globalValueOptions: Set<String> = ["--socket", "--server-uid", "--data"]
    /// Flags every command takes, which may be given before the subcommand.
    static let globalFlags: Set<String> = ["--json"]

    /// `arguments` with the global options given before the subcommand moved after it (after the whole
    /// subcommand path, `key establish`), where ArgumentParser looks for them; otherwise unchanged.
    static func hoistGlobalOptions(_ arguments: [String]) -> [String] {
        var hoisted: [String] = []
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-") {
            let argument = arguments[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if globalFlags.contains(argument) || (globalValueOptions.contains(name) && argument.contains("=")) {
                hoisted.append(argument)
                index += 1
            } else if globalValueOptions.contains(argument), index + 1 < arguments.count {
                hoisted += [argument, arguments[index + 1]]
                index += 2
            } else {
                return arguments  // --help, --version or a mistake: ArgumentParser says what it is
            }
        }
        guard !hoisted.isEmpty else { return arguments }
        let rest = Array(arguments[index...])
        let path = subcommandPath(rest)
        return Array(rest[..<path.count]) + hoisted + Array(rest[path.count...])
    }

    /// The leading subcommand names of `arguments`, as far as they name subcommands.
    static func subcommandPath(_ arguments: [String]) -> [String] {
        var command: any ParsableCommand.Type = QSM.self
        var path: [String] = []
        for argument in arguments {
            guard let next = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            command = next
        }
        return path
    }

    /// "unknown command 'inbx'; did you mean 'inbox'?" when the first word after a command group is
    /// none of its subcommands; nil when the words name a command (or are options).
    static func unknownSubcommand(_ arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = QSM.self
        var words: [String] = []
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, command.configuration.defaultSubcommand == nil, !argument.hasPrefix("-") else {
                return nil
            }
            guard let next = subcommands.first(where: { $0._commandName == argument }) else {
                if argument == "help" { return nil }
                let names = subcommands.map { $0._commandName }
                let group = (["qsm"] + words).joined(separator: " ")
                let close = names.map { ($0, editDistance($0, argument)) }.filter { $0.1 <= max(1, argument.count / 3) || $0.0.hasPrefix(argument) }
                    .sorted { $0.1 < $1.1 }.map(\.0)
                let hint = close.isEmpty ? "" : "; did you mean " + close.prefix(3).map { "'\(group) \($0)'" }.joined(separator: " or ") + "?"
                return "unknown command '\(argument)'\(hint) (\(group) --help lists them: \(names.joined(separator: ", ")))"
            }
            words.append(argument)
            command = next
        }
        return nil
    }

    /// Levenshtein distance, for suggestions among a dozen short names.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let (a, b) = (Array(a), Array(b))
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    /// Parses and runs qsm, reporting every failure as `qsm: ...` on standard error.
    static func main(_ raw: [String]) async -> Never {
        let arguments = hoistGlobalOptions(raw)
        if let unknown = unknownSubcommand(arguments) { fail("qsm: \(unknown)", status: 64) }
        var command: any ParsableCommand
        do {
            command = try QSM.parseAsRoot(arguments)
        } catch {
            let status = QSM.exitCode(for: error)
            let message = QSM.fullMessage(for: error)
            if status == .success {
                print(message)
                exit(0)
            }
            // A usage error: the one line, then the usage ArgumentParser gives.
            fail(message.hasPrefix("Error: ") ? "qsm: " + message.dropFirst("Error: ".count) : "qsm: " + message, status: status.rawValue)
        }
        do {
            if var runnable = command as? any AsyncParsableCommand {
                try await runnable.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            exit(code.rawValue)  // the command said what went wrong already
        } catch let error as ValidationError {
            // Input the command could check only while running (a file, a second password): no usage.
            fail("qsm: \(error.message)", status: 64)
        } catch {
            let status = QSM.exitCode(for: error)
            if status == .success {
                // `--help` and `help` run ArgumentParser's help command, which ends by throwing its text.
                let message = QSM.fullMessage(for: error)
                if !message.isEmpty { print(message) }
                exit(0)
            }
            fail("qsm: \(QSM.message(for: error))", status: status.rawValue)
        }
        exit(0)
    }

    private static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
        exit(status)
    }
}
