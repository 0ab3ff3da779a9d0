import ArgumentParser
import Foundation
import QSMClient

extension QSM {
    struct Admin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Administration over the socket (root, qsmd's uid or the admin group).",
            subcommands: [Events.self, Verify.self, Rebuild.self, Stats.self])

        struct Events: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print events from the log.",
                discussion: """
                    Each event's data is its body as qsm log export writes it (ids and keys in hex, numbers as \
                    numbers); with --json, one object per line with the time in RFC 3339.
                    """)
            @Option(help: "First position (default 1).") var from: Int?
            @Option(name: [.customShort("n"), .long], help: "At most this many (default 100).") var limit: Int?
            @OptionGroup var options: ClientOptions

            func run() async throws {
                try await runClient {
                    let replies = try await options.connect().streamVerbatim(AdminAPI.ReadEvents(from: from, limit: limit))
                    for try await answer in replies {
                        guard let event = answer.reply.event else { continue }
                        // The event as qsmd wrote it: its data's numbers and keys exactly as sent.
                        let said = (Output.parameters(of: answer) as? [String: Any])?["event"] as? [String: Any] ?? [:]
                        if options.json {
                            Output.jsonLine(said)
                        } else {
                            let data = (try? JSONSerialization.data(withJSONObject: said["data"] ?? [:], options: [.sortedKeys]))
                                .flatMap { String(data: $0, encoding: .utf8) } ?? ""
                            print("\(event.position)  \(Output.time(event.at))  \(event.type)  \(event.actor)  \(data)")
                        }
                    }
                }
            }
        }

        struct Verify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Verify the log in the daemon: the hash chain, every signed checkpoint and the witness.")
            @OptionGroup var options: ClientOptions

            func run() async throws {
                try await runClient {
                    let answer = try await options.connect().callVerbatim(AdminAPI.VerifyChain())
                    let reply = answer.reply
                    if options.json { Output.json(answer) } else if reply.ok {
                        print("chain valid through position \(reply.lastPosition)")
                    } else {
                        print("chain broken at position \(reply.firstBadPosition ?? 0)")
                    }
                    if !reply.ok { throw ExitCode(1) }
                }
            }
        }

        struct Rebuild: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Replay the log into fresh projections and compare digests with the live ones.",
                discussion: "Projections: users, sessions, keyPools, inbox, history, ids, dashboard.")
            @Option(help: "Compare (and with --swap replace) only this projection.") var projection: String?
            @Flag(help: "Replace the live projection(s) with the rebuilt ones when the digests differ.") var swap = false
            @OptionGroup var options: ClientOptions

            func run() async throws {
                try await runClient {
                    let answer = try await options.connect().callVerbatim(AdminAPI.Rebuild(projection: projection, swap: swap))
                    if options.json { Output.json(answer); return }
                    let reply = answer.reply
                    print(String(format: "rebuilt through position %lld in %.2f s: %@", Int64(reply.position),
                                 reply.seconds, reply.equal ? "equal" : "DIFFERENT"))
                    for digest in reply.digests {
                        let same = digest.live == digest.rebuilt
                        print("  \(digest.name)  \(same ? "equal" : "differs")  \(digest.live)"
                              + (same ? "" : "  rebuilt \(digest.rebuilt)"))
                    }
                    if reply.swapped { print("swapped: the live state now holds the rebuilt projection(s)") }
                }
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Log and pipeline figures.")
            @OptionGroup var options: ClientOptions

            func run() async throws {
                try await runClient {
                    let answer = try await options.connect().callVerbatim(AdminAPI.Stats())
                    if options.json { Output.json(answer); return }
                    // Every figure qsmd gave, by name, as it gave them.
                    let figures = Output.parameters(of: answer) as? [String: Any] ?? [:]
                    for key in figures.keys.sorted() { print("\(key.padding(toLength: 10, withPad: " ", startingAt: 0)) \(figures[key] ?? "")") }
                }
            }
        }
    }
}
