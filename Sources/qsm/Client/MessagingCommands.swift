import ArgumentParser
import Foundation
import QSMClient

extension QSM {
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "BB84 key exchanges and the key material they left.", subcommands: [Establish.self, Status.self])

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The BB84 key you share with each peer: bytes left for otp and aes, and keys made.",
                discussion: "An otp message costs its size plus 32 bytes; an aes block 32 bytes for many messages.")
            @OptionGroup var options: ClientOptions

            func run() async throws {
                let token = try SessionStore.token()
                try await runClient {
                    let answer = try await options.connect().callVerbatim(BrokerAPI.KeyStatus(token: token))
                    if options.json { Output.json(answer); return }
                    let pools = answer.reply.pools
                    if pools.isEmpty { print("no key material: run qsm key establish PEER") }
                    for pool in pools {
                        let (bits, keys) = (pool.availableBits, pool.keys)
                        print("\(pool.peer)  \(bits / 8) bytes left (\(bits) bits)  from \(keys) \(keys == 1 ? "key" : "keys")")
                    }
                }
            }
        }

        struct Establish: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run a (simulated) BB84 exchange with PEER and add the key to your shared pool.",
                discussion: """
                    A long exchange (a million qubits or more) counts its seconds on a terminal's standard error. \
                    Ctrl-C (or any end of qsm) closes the connection, and qsmd cancels the exchange: no key is \
                    stored and no key_established event recorded.
                    """)
            @Argument var peer: String
            @Option(help: "Qubits to send (default 200,000).") var qubits: Int?
            @Option(help: "Channel bit-flip probability (default 0.01).") var noise: Double?
            @Option(help: "Fraction of qubits an intercept-resend eavesdropper measures (default 0).") var eavesdrop: Double?
            @Option(help: ArgumentHelp(
                "Probability of the key basis: 0.5 is standard BB84; by default the exchange chooses (efficient BB84).",
                valueName: "P")) var basisBias: Double?
            @OptionGroup var options: ClientOptions

            func run() async throws {
                let token = try SessionStore.token()
                let request = BrokerAPI.EstablishKey(
                    token: token, peer: peer, qubits: qubits, noise: noise, eavesdropper: eavesdrop, basisBias: basisBias)
                try await runClient {
                    let answer = try await establish(request, on: try await options.connect())
                    if options.json { Output.json(answer); return }
                    let e = answer.reply.exchange
                    print("key \(e.keyId) with \(peer)")
                    print(String(format: "  qubits sent %lld, sifted %lld, sample %lld", Int64(e.qubitsSent), Int64(e.sifted), Int64(e.sampleSize)))
                    print(String(format: "  QBER %.2f%% (upper bound %.2f%%, abort above 11%%)", e.qber * 100, e.qberUpperBound * 100))
                    print(String(format: "  leaked %lld bits in reconciliation (f = %.3f), final key %lld bits",
                                 Int64(e.leakedBits), e.efficiency, Int64(e.finalBits)))
                }
            }

            /// Runs the exchange, counting its seconds on a terminal; an aborted one is reported here.
            private func establish(_ request: BrokerAPI.EstablishKey, on connection: QSMConnection) async throws
                -> VerbatimReply<BrokerAPI.EstablishKey.Reply>
            {
                let progress = ExchangeProgress(peer: peer, qubits: qubits ?? 200_000)
                defer { progress.stop() }
                let result: Result<VerbatimReply<BrokerAPI.EstablishKey.Reply>, QSMClientError>
                do { result = .success(try await connection.callVerbatim(request)) } catch { result = .failure(error) }
                progress.stop()
                switch result {
                case .success(let answer): return answer
                case .failure(.broker(.eavesdroppingDetected(let qber, let bound, let threshold))):
                    try reportAbort(qber: qber, bound: bound, threshold: threshold)
                case .failure(let error): throw error
                }
            }

            /// An aborted exchange in the same units as a completed one (percentages), naming the alert it
            /// raises; with --json, an object on standard output. Exit status 1 either way.
            private func reportAbort(qber: Double, bound: Double, threshold: Double) throws -> Never {
                if options.json {
                    Output.json([
                        "aborted": true, "reason": "eavesdroppingDetected", "peer": peer, "qber": qber, "qberUpperBound": bound,
                        "threshold": threshold, "alert": "qkd_abort",
                    ] as [String: Any])
                } else {
                    let figures = String(format: "QBER %.2f%% (upper bound %.2f%%, abort above %.0f%%)", qber * 100, bound * 100, threshold * 100)
                    FileHandle.standardError.write(Data(
                        "qsm: key exchange with \(peer) aborted, possible eavesdropper: \(figures); no key was stored, and a qkd_abort alert was raised\n".utf8))
                }
                throw ExitCode(1)
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encrypt and send a message, read from standard input (or --file, or MESSAGE).",
            discussion: """
                Prefer standard input (echo ... | qsm send PEER) or --file: a MESSAGE on the command line is \
                visible to every user of the host while qsm runs (ps, /proc/PID/cmdline), so qsm warns when \
                one is given. otp costs the message's length plus 32 bytes of BB84 key: BB84 sets its pace.
                """)
        @Argument var peer: String
        @Argument(help: "The message; other users can read it while qsm runs: prefer standard input or --file.")
        var message: String?
        @Option(name: [.short, .long], help: ArgumentHelp("Read the message from FILE.", valueName: "FILE")) var file: String?
        @Option(name: [.short, .long], help: "aes (default), otp or pqc.") var mode: String?
        @OptionGroup var options: ClientOptions

        func validate() throws {
            if message != nil && file != nil { throw ValidationError("give MESSAGE or --file, not both") }
        }

        /// More than qsmd could ever take (its messages are 64 KiB unless configured, its calls a few MiB):
        /// reading stops here instead of holding a file of any size, and the limit is said plainly.
        static let readLimit = 16 << 20

        static func readBounded(_ handle: FileHandle, from source: String) throws -> Data {
            let data = try handle.read(upToCount: readLimit + 1) ?? Data()
            guard data.count <= readLimit else {
                FileHandle.standardError.write(Data("""
                    qsm: the message from \(source) is larger than 16 MiB; qsmd takes messages of at most its \
                    maxMessageBytes (64 KiB unless configured; docs/qsmd.md)

                    """.utf8))
                throw ExitCode(64)
            }
            return data
        }

        func run() async throws {
            let token = try SessionStore.token()
            let body: String
            if let message {
                FileHandle.standardError.write(Data("""
                    qsm: warning: the message was given on the command line, where other users can read it while \
                    qsm runs (ps, /proc/PID/cmdline); pipe it in or use --file

                    """.utf8))
                body = message
            } else if let file {
                guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file)") }
                body = String(decoding: try Self.readBounded(handle, from: file), as: UTF8.self)
            } else {
                if isatty(STDIN_FILENO) == 1 {
                    FileHandle.standardError.write(Data("type the message, end with Ctrl-D\n".utf8))
                }
                var text = String(decoding: try Self.readBounded(.standardInput, from: "standard input"), as: UTF8.self)
                // `echo msg | qsm send` sends "msg", not "msg\n": one final newline is the shell's, not the message's.
                if text.hasSuffix("\n") { text.removeLast() }
                body = text
            }
            try await runClient {
                let answer = try await options.connect().callVerbatim(BrokerAPI.Send(token: token, to: peer, body: body, mode: mode))
                if options.json { Output.json(answer) } else { print("sent \(answer.reply.messageId) (\(mode ?? "aes"))") }
            }
        }
    }

    struct Inbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List your messages, newest first.",
            discussion: "Lists the newest 100 unless --limit or --all is given; when more are left, says how many on standard error.")
        @Flag(help: "Only messages not read yet.") var unread = false
        @OptionGroup var paging: Paging
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let token = try SessionStore.token()
            try await runClient {
                let connection = try await options.connect()
                let (reply, json) = try await paging.fetch("messages") { cursor in
                    try await connection.callVerbatim(
                        BrokerAPI.Inbox(token: token, unreadOnly: unread, limit: paging.pageLimit, cursor: cursor))
                }
                if options.json { Output.json(json); return }
                if reply.messages.isEmpty { print("no messages") }
                for m in reply.messages {
                    let read = m.read ? " " : "*"
                    print("\(read) \(m.messageId)  \(Output.time(m.sentAt))  from \(m.from)  \(m.mode)  \(m.size) bytes")
                }
                Paging.sayMore(reply.more)
            }
        }
    }

    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decrypt and show a message.")
        @Argument(help: "The message id as qsm inbox shows it, or a prefix of it that only one of your messages has.")
        var messageID: String
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let token = try SessionStore.token()
            try await runClient {
                let connection = try await options.connect()
                let id = try await MessageIDPrefix.resolve(messageID, token: token, connection: connection)
                let answer = try await connection.callVerbatim(BrokerAPI.Decrypt(token: token, messageId: id))
                if options.json { Output.json(answer); return }
                // Your own sent message says whom it went to; a received one, whom it came from.
                let reply = answer.reply
                print("from \(reply.from) to \(reply.to) at \(Output.time(reply.sentAt)) (\(reply.mode))")
                print(reply.body)
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What you did and what was done to you, newest first.",
            discussion: "Shows the newest 100 lines unless --limit or --all is given; when more are left, says how many on standard error.")
        @OptionGroup var paging: Paging
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let token = try SessionStore.token()
            try await runClient {
                let connection = try await options.connect()
                let (reply, json) = try await paging.fetch("entries") { cursor in
                    try await connection.callVerbatim(BrokerAPI.History(token: token, limit: paging.pageLimit, cursor: cursor))
                }
                if options.json { Output.json(json); return }
                for e in reply.entries { print("\(e.position)  \(Output.time(e.at))  \(e.summary)") }
                Paging.sayMore(reply.more)
            }
        }
    }
}
