import Foundation
import NIOCore

/// Who waits for the replies of one call: a single reply, or a stream of them.
enum ReplyReceiver: Sendable {
    case single(EventLoopPromise<ByteBuffer>)
    case stream(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)

    func fail(_ error: any Error) {
        switch self {
        case .single(let promise): promise.fail(error)
        case .stream(let continuation): continuation.finish(throwing: error)
        }
    }
}

/// A call on its way out: its frame and who gets its replies.
struct PendingCall: Sendable {
    let frame: ByteBuffer
    let receiver: ReplyReceiver
}

/// Matches replies to calls in the order they were written (Varlink answers in order on a connection)
/// and fails every waiting call when the connection goes.
final class ReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingCall
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<ReplyReceiver>()
    private let decoder = JSONDecoder()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        waiting.append(call.receiver)
        context.write(wrapOutboundOut(call.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let receiver = waiting.first else {
            context.fireErrorCaught(QSMClientError.malformedReply("a reply to no call"))
            context.close(promise: nil)
            return
        }
        let head = try? decoder.decode(VarlinkEnvelope.Head.self, from: Data(frame.readableBytesView))
        let last = head?.error != nil || head?.continues != true
        switch receiver {
        case .single(let promise):
            promise.succeed(frame)
        case .stream(let continuation):
            continuation.yield(frame)
            if last { continuation.finish() }
        }
        if last { waiting.removeFirst() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(QSMClientError.connection("qsmd closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error as? QSMClientError ?? .connection("\(error)"))
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(QSMClientError.connection("the connection closed"))
    }

    private func failAll(_ error: any Error) {
        while let receiver = waiting.popFirst() { receiver.fail(error) }
    }
}
