internal import NIOCore
internal import Synchronization

/// One connection's share of the ``PeerLedger``'s input accounting, shared by its ``InputBudget`` handler
/// (which charges what it reads) and its ``Connection`` (which takes messages).
final class InputGate: Sendable {
    let uid: UInt32
    let privileged: Bool
    private let ledger: PeerLedger
    private let waker = Mutex<(@Sendable () -> Void)?>(nil)

    init(uid: UInt32, privileged: Bool, ledger: PeerLedger) {
        self.uid = uid
        self.privileged = privileged
        self.ledger = ledger
        ledger.open(self)
    }

    /// A message of `bytes` (its NUL included) was taken by a call.
    func take(bytes: Int) { ledger.take(self, bytes: bytes) }

    func charge(bytes: Int) { ledger.charge(self, bytes: bytes) }
    func mayRead() -> Bool { ledger.mayRead(self) }
    func close() {
        setWaker(nil)
        ledger.close(self)
    }

    func setWaker(_ wake: (@Sendable () -> Void)?) { waker.withLock { $0 = wake } }
    func wake() { waker.withLock { $0 }?() }
}

/// The first handler of a connection: counts the bytes read from the socket against the connection's
/// and its uid's input limits, and holds further reads while either is reached. Reading resumes when a
/// call takes a message (or another connection of the uid releases input); the kernel's socket buffer,
/// not qsmd's memory, holds what the peer sends meanwhile.
///
/// A connection held with no call running waits for the rest of a message it cannot read, because its
/// uid's other connections hold the budget: if that lasts `heldTimeout`, it is closed, releasing its share,
/// so a uid that spreads partial messages over many connections cannot wedge them all.
final class InputBudget: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let gate: InputGate
    private let activity: ConnectionActivity
    private let heldTimeout: TimeAmount
    private var readHeld = false
    private var heldCheck: Scheduled<Void>?

    init(gate: InputGate, activity: ConnectionActivity, heldTimeout: TimeAmount) {
        self.gate = gate
        self.activity = activity
        self.heldTimeout = heldTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        gate.setWaker {
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.resume(context: context)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        heldCheck?.cancel()
        gate.close()
    }

    func channelInactive(context: ChannelHandlerContext) {
        heldCheck?.cancel()
        gate.close()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        gate.charge(bytes: unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if gate.mayRead() {
            context.read()
        } else {
            readHeld = true
            scheduleHeldCheck(context: context)
        }
    }

    private func resume(context: ChannelHandlerContext) {
        guard readHeld, context.channel.isActive, gate.mayRead() else { return }
        readHeld = false
        heldCheck?.cancel()
        heldCheck = nil
        context.read()
    }

    private func scheduleHeldCheck(context: ChannelHandlerContext) {
        guard heldCheck == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        heldCheck = context.eventLoop.scheduleTask(in: heldTimeout) {
            let (handler, context) = loopBound.value
            handler.heldCheck = nil
            guard handler.readHeld else { return }
            // A running call will take messages and release input; only a connection with none is stuck.
            if handler.activity.callInProgress {
                handler.scheduleHeldCheck(context: context)
            } else {
                context.close(promise: nil)
            }
        }
    }
}
