package import NIOCore
import Synchronization

/// The server's steps from bytes to replies, for fuzzers and tests in this package: the code a connection
/// runs (frame decoder, JSON parser, call envelope, dispatcher), without a socket.
package enum VarlinkWire {
    /// What the frame decoder passes on: a message without its NUL, or the notice that one was too large.
    package enum Frame: Sendable, Equatable {
        case message([UInt8])
        case tooLarge
    }

    /// The server's NUL frame decoder in a handler, for a pipeline such as NIO's `EmbeddedChannel`.
    package static func frameDecoder(maxFrameSize: Int) -> any ChannelHandler {
        ByteToMessageHandler(NULFrameDecoder(maxFrameSize: maxFrameSize))
    }

    /// The frame in a value read from the end of such a pipeline (`readInbound(as: (any Sendable).self)`).
    package static func frame(_ value: any Sendable) -> Frame? {
        switch value as? InboundFrame {
        case .message(let buffer)?: return .message(Array(buffer.readableBytesView))
        case .tooLarge?: return .tooLarge
        case nil: return nil
        }
    }

    /// Parses a JSON text as the server does, with its nesting limit.
    package static func parseJSON(_ bytes: [UInt8], maxDepth: Int) -> Result<JSONValue, JSONParseError> {
        do throws(JSONParseError) { return .success(try JSONParser.parse(bytes, maxDepth: maxDepth)) } catch {
            return .failure(error)
        }
    }

    /// The compact JSON text the server writes for `value`.
    package static func writeJSON(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(value, into: &out)
        return out
    }

    /// A call envelope as the server reads it from a parsed frame.
    package struct Call: Sendable, Equatable {
        package var method: String
        package var parameters: JSONValue?
        package var oneway: Bool
        package var more: Bool
        package var upgrade: Bool
    }

    /// Reads the call in one frame (JSON, nesting limit, envelope), or the error the server answers before
    /// closing the connection.
    package static func call(frame: [UInt8], maxNestingDepth: Int) -> Result<Call, VarlinkError> {
        frame.withUnsafeBytes { raw in
            CallMessage.decode(raw, maxNestingDepth: maxNestingDepth).map { message in
                Call(
                    method: message.method, parameters: message.parameters, oneway: message.oneway,
                    more: message.more, upgrade: message.upgrade)
            }
        }
    }

    /// The server's dispatch, as a connection runs it, for a fixed set of interfaces.
    package struct Endpoint: Sendable {
        let dispatcher: Dispatcher
        let configuration: VarlinkServerConfiguration

        /// Routes to `interfaces` plus `org.varlink.service` (and certification when configured), as a
        /// ``VarlinkServer`` with `configuration` does.
        package init(configuration: VarlinkServerConfiguration, interfaces: [VarlinkInterface]) {
            self.configuration = configuration
            self.dispatcher = VarlinkServer(configuration: configuration, interfaces: interfaces).dispatcher
        }

        /// Handles one frame from `peer` as a connection does: the replies sent (each with its NUL), and
        /// whether the connection is closed after them (bad frames).
        package func handle(_ frame: Frame, peer: PeerCredentials) async -> (replies: [[UInt8]], close: Bool) {
            let collected = ReplyBox()
            let message: CallMessage
            switch frame {
            case .tooLarge:
                return ([ReplyEncoder.error(.frameTooLarge(limit: configuration.maxFrameSize))], true)
            case .message(let bytes):
                let decoded = bytes.withUnsafeBytes { CallMessage.decode($0, maxNestingDepth: configuration.maxNestingDepth) }
                switch decoded {
                case .success(let value): message = value
                case .failure(let error): return ([ReplyEncoder.error(error)], true)
                }
            }
            do {
                try await dispatcher.dispatch(message, peer: peer) { bytes in collected.append(bytes) }
            } catch {
                // `send` above never throws.
            }
            return (collected.replies, false)
        }
    }
}

/// Replies collected by ``VarlinkWire/Endpoint/handle(_:peer:)``; a call's handler and its sends run in order.
private final class ReplyBox: Sendable {
    private let storage = Mutex<[[UInt8]]>([])

    func append(_ bytes: [UInt8]) { storage.withLock { $0.append(bytes) } }
    var replies: [[UInt8]] { storage.withLock { $0 } }
}

extension CallMessage {
    /// Parses one frame (JSON with the nesting limit, then the call envelope) into a call, or the
    /// `InvalidMessage` error the connection answers before closing.
    static func decode(_ bytes: UnsafeRawBufferPointer, maxNestingDepth: Int) -> Result<CallMessage, VarlinkError> {
        let parsed: JSONValue
        do throws(JSONParseError) { parsed = try JSONParser.parse(bytes, maxDepth: maxNestingDepth) } catch {
            switch error {
            case .invalidUTF8(let offset): return .failure(.invalidMessage("invalid UTF-8 at byte \(offset)"))
            case .syntax(let offset): return .failure(.invalidMessage("invalid JSON at byte \(offset)"))
            case .tooDeep(let limit): return .failure(.invalidMessage("JSON nested deeper than \(limit)"))
            case .duplicateKey(let key, let offset):
                return .failure(.invalidMessage("member \"\(key)\" named twice at byte \(offset)"))
            }
        }
        do throws(VarlinkError) { return .success(try CallMessage(parsed)) } catch { return .failure(error) }
    }
}
