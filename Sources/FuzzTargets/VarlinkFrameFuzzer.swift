import NIOCore
import NIOEmbedded
import Varlink

/// Target `varlink-frame`: the server's byte path. The first input byte picks a frame size limit and how
/// the rest is cut into reads; the rest is the byte stream of one connection. Checks: the frame decoder
/// splits exactly as a plain reference split does (whatever the read boundaries), the JSON parser's values
/// survive writing and parsing again, and every frame gets well-formed replies from the dispatcher (an
/// echo method must return its parameters unchanged).
public enum VarlinkFrameFuzzer {
    static let limits = [8, 64, 1024, 1 << 20]
    static let maxNestingDepth = 64

    static let interface = """
        # Every type the IDL has, for the fuzzer's dispatch checks.
        interface org.qsm.fuzz

        type Point (x: int, y: float, label: ?string)

        type Shape (kind: (circle, square), points: []Point, tags: [string]bool, meta: ?object)

        method Echo(b: ?bool, i: ?int, f: ?float, s: ?string, shape: ?Shape, m: ?[string]?[]int) -> (echo: object)

        method Count(upTo: int) -> (n: int)

        error Refused (reason: string)
        """

    static let endpoint: VarlinkWire.Endpoint = {
        var fuzz = try! VarlinkInterface(description: interface)
        fuzz.method("Echo") { call in ["echo": .object(call.parameters)] }
        fuzz.streamingMethod("Count", requiresMore: false) { call, replier in
            let upTo = call["upTo"]?.intValue ?? 0
            guard upTo >= 0 else { throw VarlinkError("org.qsm.fuzz.Refused", parameters: ["reason": "negative"]) }
            if replier.canContinue {
                for n in 0..<min(upTo, 3) { try await replier.send(["n": .int(n)]) }
            }
            return ["n": .int(upTo)]
        }
        var configuration = VarlinkServerConfiguration(
            socketPath: "/nonexistent/fuzz.sock",
            info: VarlinkServiceInfo(vendor: "qsm", product: "fuzz", version: "1", url: "https://example.invalid"))
        configuration.maxNestingDepth = maxNestingDepth
        return VarlinkWire.Endpoint(configuration: configuration, interfaces: [fuzz])
    }()

    /// Runs one input.
    public static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        let control = input.byte()
        let limit = limits[Int(control & 3)]
        let stream = input.rest()

        let frames = decodeFrames(stream, limit: limit, seed: Int(control >> 2))
        FuzzTargets.check(frames == referenceFrames(stream, limit: limit), "frame decoder disagrees with the reference split")

        for frame in frames.prefix(16) {
            guard case .message(let bytes) = frame else { continue }
            if case .success(let value) = VarlinkWire.parseJSON(bytes, maxDepth: maxNestingDepth) {
                let again = VarlinkWire.parseJSON(VarlinkWire.writeJSON(value), maxDepth: Int.max)
                FuzzTargets.check(again == .success(value), "JSON does not survive writing and parsing again")
            }
            _ = VarlinkWire.call(frame: bytes, maxNestingDepth: maxNestingDepth)
        }
        let peer = PeerCredentials(pid: 1, uid: 1000, gid: 1000)
        let outcomes = runBlocking { [frames] in
            var outcomes: [(VarlinkWire.Frame, [[UInt8]], Bool)] = []
            for frame in frames.prefix(16) {
                let (replies, close) = await endpoint.handle(frame, peer: peer)
                outcomes.append((frame, replies, close))
                if close { break }
            }
            return outcomes
        }
        for (frame, replies, close) in outcomes {
            checkReplies(frame: frame, replies: replies, close: close)
        }
    }

    /// Feeds `stream` to the server's frame decoder in reads cut by `seed` (0: one read) and collects
    /// what it passes on, end of stream included.
    static func decodeFrames(_ stream: [UInt8], limit: Int, seed: Int) -> [VarlinkWire.Frame] {
        let channel = EmbeddedChannel(handler: VarlinkWire.frameDecoder(maxFrameSize: limit))
        var frames: [VarlinkWire.Frame] = []
        func drain() {
            while let value = try? channel.readInbound(as: (any Sendable).self) {
                guard let frame = VarlinkWire.frame(value) else { break }
                frames.append(frame)
            }
        }
        var state = UInt32(truncatingIfNeeded: seed) &* 2_654_435_761 &+ 1
        var offset = 0
        while offset < stream.count {
            var size = stream.count - offset
            if seed != 0 {
                state = state &* 1_103_515_245 &+ 12_345
                size = min(size, 1 + Int((state >> 16) % 33))
            }
            var buffer = channel.allocator.buffer(capacity: size)
            buffer.writeBytes(stream[offset..<offset + size])
            offset += size
            _ = try? channel.writeInbound(buffer)
            drain()
        }
        _ = try? channel.finish()
        drain()
        return frames
    }

    /// The frames a connection must see: split at each NUL; a frame longer than `limit` (complete or not)
    /// is reported once and ends the stream; an unterminated last frame is dropped.
    static func referenceFrames(_ stream: [UInt8], limit: Int) -> [VarlinkWire.Frame] {
        var frames: [VarlinkWire.Frame] = []
        var start = 0
        while start < stream.count {
            guard let nul = stream[start...].firstIndex(of: 0) else {
                if stream.count - start > limit { frames.append(.tooLarge) }
                break
            }
            guard nul - start <= limit else {
                frames.append(.tooLarge)
                break
            }
            frames.append(.message(Array(stream[start..<nul])))
            start = nul + 1
        }
        return frames
    }

    /// Every reply is one NUL-terminated JSON object with either an error name or parameters; an echo
    /// returns exactly what it was sent.
    static func checkReplies(frame: VarlinkWire.Frame, replies: [[UInt8]], close: Bool) {
        let call: VarlinkWire.Call? = if case .message(let bytes) = frame,
            case .success(let call) = VarlinkWire.call(frame: bytes, maxNestingDepth: maxNestingDepth) { call } else { nil }
        FuzzTargets.check((call == nil) == close, "a connection closes exactly on frames that are not calls")
        if let call, call.oneway { FuzzTargets.check(replies.isEmpty, "a oneway call got a reply") }
        if call == nil || call?.oneway == false { FuzzTargets.check(!replies.isEmpty, "a call got no reply") }
        for (index, reply) in replies.enumerated() {
            FuzzTargets.check(reply.last == 0 && reply.dropLast().firstIndex(of: 0) == nil, "a reply is not one NUL-terminated frame")
            guard case .success(.object(let members)) = VarlinkWire.parseJSON(Array(reply.dropLast()), maxDepth: Int.max) else {
                FuzzTargets.check(false, "a reply is not a JSON object")
                return
            }
            let isLast = index == replies.count - 1
            FuzzTargets.check((members["continues"] == .bool(true)) == !isLast, "only the last reply lacks continues")
            if let error = members["error"] {
                FuzzTargets.check(error.stringValue?.contains(".") == true && isLast, "an error reply without a qualified name")
            } else {
                FuzzTargets.check(members["parameters"]?.objectValue != nil, "a reply without parameters")
                if let call, call.method == "org.qsm.fuzz.Echo" {
                    let sent: JSONObject = call.parameters?.objectValue ?? [:]
                    FuzzTargets.check(members["parameters"] == .object(["echo": .object(sent)]), "Echo changed its parameters")
                }
            }
        }
    }
}
