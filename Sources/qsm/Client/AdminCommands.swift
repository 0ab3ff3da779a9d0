import ArgumentParser
import Foundation
import Varlink

extension QSM {
    struct Admin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Administration over the socket (root, qsmd's uid or the admin group).",
            subcommands: [Events.self, Verify.self, Rebuild.self, Stats.self])

        struct Events: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print events from the log.",
                discussion: """
                    Each event's data is its body as qsm log export writes it (ids and keys in hex, numbers as \
                    numbers); with --json, one object per line with the time in RFC 3339.
                    """)
            @Option(help: "First position (default 1).") var from: Int?
            @Option(name: [.customShort("n"), .long], help: "At most this many (default 100).") var limit: Int?
            @OptionGroup var options: ClientOptions

            func run() throws {
                var parameters: [String: Any] = [:]
                if let from { parameters["from"] = from }
                if let limit { parameters["limit"] = limit }
                try runClient {
                    try options.connect().stream("io.qsm.Admin.ReadEvents", parameters) { reply in
                        guard let event = reply["event"] as? [String: Any] else { return true }
                        if options.json {
                            Output.jsonLine(event)
                        } else {
                            let data = (try? JSONSerialization.data(withJSONObject: event["data"] ?? [:], options: [.sortedKeys]))
                                .flatMap { String(data: $0, encoding: .utf8) } ?? ""
                            print("\(Output.int(event["position"]))  \(Output.time(event["at"]))  \(event["type"] ?? "")  \(event["actor"] ?? "")  \(data)")
                        }
                        return true
                    }
                }
            }
        }

        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Verify the log in the daemon: the hash chain, every signed checkpoint and the witness.")
            @OptionGroup var options: ClientOptions

            func run() throws {
                try runClient {
                    let reply = try options.connect().call("io.qsm.Admin.VerifyChain")
                    if options.json { Output.json(reply) } else if reply["ok"] as? Bool == true {
                        print("chain valid through position \(Output.int(reply["lastPosition"]))")
                    } else {
                        print("chain broken at position \(Output.int(reply["firstBadPosition"]))")
                    }
                    if reply["ok"] as? Bool != true { throw ExitCode(1) }
                }
            }
        }

        struct Rebuild: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Replay the log into fresh projections and compare digests with the live ones.",
                discussion: "Projections: users, sessions, keyPools, inbox, history, ids, dashboard.")
            @Option(help: "Compare (and with --swap replace) only this projection.") var projection: String?
            @Flag(help: "Replace the live projection(s) with the rebuilt ones when the digests differ.") var swap = false
            @OptionGroup var options: ClientOptions

            func run() throws {
                var parameters: [String: Any] = ["swap": swap]
                if let projection { parameters["projection"] = projection }
                try runClient {
                    let reply = try options.connect().call("io.qsm.Admin.Rebuild", parameters)
                    if options.json { Output.json(reply); return }
                    print(String(format: "rebuilt through position %lld in %.2f s: %@", Output.int(reply["position"]),
                                 Output.double(reply["seconds"]), reply["equal"] as? Bool == true ? "equal" : "DIFFERENT"))
                    for digest in reply["digests"] as? [[String: Any]] ?? [] {
                        let same = (digest["live"] as? String) == (digest["rebuilt"] as? String)
                        print("  \(digest["name"] ?? "")  \(same ? "equal" : "differs")  \(digest["live"] ?? "")"
                              + (same ? "" : "  rebuilt \(digest["rebuilt"] ?? "")"))
                    }
                    if reply["swapped"] as? Bool == true { print("swapped: the live state now holds the rebuilt projection(s)") }
                }
            }
        }

        struct Stats: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Log and pipeline figures.")
            @OptionGroup var options: ClientOptions

            func run() throws {
                try runClient {
                    let reply = try options.connect().call("io.qsm.Admin.Stats")
                    if options.json { Output.json(reply); return }
                    for key in reply.keys.sorted() { print("\(key.padding(toLength: 10, withPad: " ", startingAt: 0)) \(reply[key] ?? "")") }
                }
            }
        }
    }
}
