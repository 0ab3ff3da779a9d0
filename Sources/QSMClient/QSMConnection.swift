import Foundation
public import NIOCore
public import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// One Varlink connection to qsmd on a Unix socket, non-blocking on SwiftNIO. Calls may overlap: they
/// are answered in the order they were written. A streaming call should have a connection of its own.
public final class QSMConnection: Sendable {
    let channel: any Channel

    /// Replies longer than this close the connection (a Dashboard of a day is well under 1 MiB).
    public static let maxReplyBytes = 16 << 20

    private init(channel: any Channel) { self.channel = channel }

    /// Connects to the socket at `path`.
    public static func connect(
        socketPath path: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(QSMClientError) -> QSMConnection {
        do {
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(NullDelimitedFrameDecoder(maxFrameBytes: maxReplyBytes)))
                        try channel.pipeline.syncOperations.addHandler(ReplyHandler())
                    }
                }
                .connect(unixDomainSocketPath: path).get()
            return QSMConnection(channel: channel)
        } catch {
            throw .connection("cannot reach \(path): \(error)")
        }
    }

    /// Whether the connection is still open.
    public var isOpen: Bool { channel.isActive }

    /// Who serves the socket (SO_PEERCRED), to check before sending a password or token.
    public func serverCredentials() async throws(QSMClientError) -> ServerCredentials {
        guard let provider = channel as? any SocketOptionProvider else {
            throw .connection("cannot read the server's credentials on this channel")
        }
        do {
            let raw: LinuxPeerCredentials = try await provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
            ).get()
            return ServerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid)
        } catch {
            throw .connection("cannot read the server's credentials: \(error)")
        }
    }

    /// Calls `request`'s method and returns its reply, or throws its error.
    public func call<Request: QSMRequest>(_ request: Request) async throws(QSMClientError) -> Request.Reply {
        try VarlinkEnvelope.decode(try await replyFrame(request), as: Request.Reply.self).reply
    }

    /// Calls `request`'s method and returns its reply with the message it came in, or throws its error.
    public func callVerbatim<Request: QSMRequest>(_ request: Request) async throws(QSMClientError)
        -> VerbatimReply<Request.Reply>
    {
        let frame = try await replyFrame(request)
        let reply = try VarlinkEnvelope.decode(frame, as: Request.Reply.self).reply
        return VerbatimReply(reply: reply, message: Data(frame.readableBytesView))
    }

    private func replyFrame<Request: QSMRequest>(_ request: Request) async throws(QSMClientError) -> ByteBuffer {
        let frame: ByteBuffer
        do { frame = try VarlinkEnvelope.encode(request, more: false, allocator: channel.allocator) } catch {
            throw .malformedReply("cannot encode \(Request.method): \(error)")
        }
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        // A write that never reaches the handler (the channel closed) fails the call here; a second
        // completion of the promise is ignored.
        channel.writeAndFlush(PendingCall(frame: frame, receiver: .single(promise))).whenFailure { error in
            promise.fail(QSMClientError.connection("cannot send to qsmd: \(error)"))
        }
        do { return try await promise.futureResult.get() } catch {
            throw error as? QSMClientError ?? .connection("\(error)")
        }
    }

    /// Calls `request`'s method with `more`: each reply as it comes, until the last one. Ending the
    /// iteration early closes the connection (Varlink has no way to cancel one call).
    public func stream<Request: QSMStreamingRequest>(_ request: Request) -> AsyncThrowingStream<Request.Reply, any Error> {
        replies(request) { frame throws(QSMClientError) in try VarlinkEnvelope.decode(frame, as: Request.Reply.self).reply }
    }

    /// ``stream(_:)`` with each reply's message as it came.
    public func streamVerbatim<Request: QSMStreamingRequest>(_ request: Request)
        -> AsyncThrowingStream<VerbatimReply<Request.Reply>, any Error>
    {
        replies(request) { frame throws(QSMClientError) in
            VerbatimReply(
                reply: try VarlinkEnvelope.decode(frame, as: Request.Reply.self).reply, message: Data(frame.readableBytesView))
        }
    }

    private func replies<Request: QSMStreamingRequest, Element: Sendable>(
        _ request: Request, _ decode: @escaping @Sendable (ByteBuffer) throws(QSMClientError) -> Element
    ) -> AsyncThrowingStream<Element, any Error> {
        let (frames, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let channel = self.channel
        do {
            let frame = try VarlinkEnvelope.encode(request, more: true, allocator: channel.allocator)
            channel.writeAndFlush(PendingCall(frame: frame, receiver: .stream(continuation))).whenFailure { error in
                continuation.finish(throwing: QSMClientError.connection("cannot send to qsmd: \(error)"))
            }
        } catch {
            continuation.finish(throwing: QSMClientError.malformedReply("cannot encode \(Request.method): \(error)"))
        }
        let (replies, output) = AsyncThrowingStream<Element, any Error>.makeStream()
        let pump = Task {
            do {
                for try await frame in frames { output.yield(try decode(frame)) }
                output.finish()
            } catch {
                output.finish(throwing: error)
            }
        }
        output.onTermination = { _ in
            pump.cancel()
            channel.close(promise: nil)
        }
        return replies
    }

    /// Closes the connection; waiting calls fail.
    public func close() async {
        try? await channel.close()
    }
}
