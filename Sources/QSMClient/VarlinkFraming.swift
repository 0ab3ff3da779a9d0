import Foundation
import NIOCore

/// Splits the byte stream into Varlink messages, each ended by a NUL byte, refusing one longer than
/// `maxFrameBytes` so a misbehaving server cannot make the client buffer without bound.
final class NullDelimitedFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameBytes: Int

    init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let end = buffer.readableBytesView.firstIndex(of: 0) else {
            if buffer.readableBytes > maxFrameBytes { throw QSMClientError.connection("a reply over \(maxFrameBytes) bytes") }
            return .needMoreData
        }
        let length = end - buffer.readerIndex
        guard let frame = buffer.readSlice(length: length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Encodes calls and decodes replies as Varlink's JSON envelope.
enum VarlinkEnvelope {
    private struct Call<Parameters: Encodable>: Encodable {
        let method: String
        let parameters: Parameters
        let more: Bool?
    }

    /// What every reply has: whether more follow, and the error's name if it is one.
    struct Head: Decodable {
        var error: String?
        var continues: Bool?
    }

    private struct Body<Parameters: Decodable>: Decodable {
        var parameters: Parameters?
    }

    private struct RawParameters: Decodable {
        var parameters: JSONFragment?
    }

    /// Keeps an error reply's parameters as the JSON they were.
    private struct JSONFragment: Decodable {
        let data: Data
        init(from decoder: any Decoder) throws {
            data = try JSONSerialization.data(withJSONObject: try decoder.singleValueContainer().decode(AnyJSON.self).value)
        }
    }

    /// The call frame for `request`, NUL included.
    static func encode<Request: QSMRequest>(_ request: Request, more: Bool, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var data = try JSONEncoder().encode(Call(method: Request.method, parameters: request, more: more ? true : nil))
        data.append(0)
        return allocator.buffer(bytes: data)
    }

    /// The typed reply in `frame`, or the error it carries.
    static func decode<Reply: Decodable>(_ frame: ByteBuffer, as type: Reply.Type) throws(QSMClientError) -> (reply: Reply, continues: Bool) {
        let data = Data(frame.readableBytesView)
        let decoder = JSONDecoder()
        guard let head = try? decoder.decode(Head.self, from: data) else { throw .malformedReply("not a JSON object") }
        if let name = head.error {
            let parameters = (try? decoder.decode(RawParameters.self, from: data))?.parameters?.data ?? Data("{}".utf8)
            throw QSMClientError.fromReply(name: name, parameters: parameters)
        }
        do {
            if let reply = try decoder.decode(Body<Reply>.self, from: data).parameters {
                return (reply, head.continues ?? false)
            }
            return (try decoder.decode(Reply.self, from: Data("{}".utf8)), head.continues ?? false)
        } catch let error as DecodingError {
            throw .malformedReply(explain(error))
        } catch {
            throw .malformedReply("\(error)")
        }
    }

    /// Where the reply differs from what the method declares, in a few words ("parameters.messages:
    /// expected Array<Any>"), rather than DecodingError's whole context.
    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            (context.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), got null"
        case .keyNotFound(let key, let context): return "\(path(context, key)): missing"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// Any JSON value, for passing error parameters through untyped.
struct AnyJSON: Decodable {
    let value: Any

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = NSNull()
        } else if let bool = try? container.decode(Bool.self) {
            value = bool
        } else if let int = try? container.decode(Int.self) {
            value = int
        } else if let double = try? container.decode(Double.self) {
            value = double
        } else if let string = try? container.decode(String.self) {
            value = string
        } else if let array = try? container.decode([AnyJSON].self) {
            value = array.map(\.value)
        } else {
            value = try container.decode([String: AnyJSON].self).mapValues(\.value)
        }
    }
}
