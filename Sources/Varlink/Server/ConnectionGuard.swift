internal import NIOCore
internal import Synchronization

/// State a connection shares between its async task and its channel handlers.
final class ConnectionActivity: Sendable {
    private struct State {
        var callInProgress = false
        var draining = false
    }

    private let state = Mutex(State())

    /// Marks a call as started; false when the server is shutting down (no new calls are taken).
    func beginCall() -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.callInProgress = true
            return true
        }
    }

    func endCall() {
        state.withLock { $0.callInProgress = false }
    }

    var callInProgress: Bool { state.withLock { $0.callInProgress } }

    /// Stops taking calls; returns whether the connection is idle (and can be closed at once).
    func drain() -> Bool {
        state.withLock { state in
            state.draining = true
            return !state.callInProgress
        }
    }
}

/// Closes connections that are idle too long (no complete message in and no call running) and connections
/// whose peer stopped reading: unwritable for longer than the stall limit.
///
/// It sits after the frame decoder, so only whole messages count as activity: a peer that trickles a
/// message a byte at a time never completes one and is closed when the idle limit passes (issue 16).
final class ConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = InboundFrame
    typealias InboundOut = InboundFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let idleTimeout: TimeAmount
    private let stallTimeout: TimeAmount
    private let activity: ConnectionActivity
    private var lastActivity = NIODeadline.now()
    private var unwritableSince: NIODeadline?
    private var timer: RepeatedTask?

    init(idleTimeout: TimeAmount, stallTimeout: TimeAmount, activity: ConnectionActivity) {
        self.idleTimeout = idleTimeout
        self.stallTimeout = stallTimeout
        self.activity = activity
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let interval = TimeAmount.nanoseconds(max(min(idleTimeout, stallTimeout).nanoseconds / 4, 10_000_000))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.check(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        unwritableSince = context.channel.isWritable ? nil : .now()
        context.fireChannelWritabilityChanged()
    }

    private func check(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if let since = unwritableSince, now - since > stallTimeout {
            timer?.cancel()
            context.close(promise: nil)
        } else if unwritableSince == nil, !activity.callInProgress, now - lastActivity > idleTimeout {
            timer?.cancel()
            context.close(promise: nil)
        }
    }
}
