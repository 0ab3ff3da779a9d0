internal import Logging
internal import NIOCore

/// Serves one accepted connection: reads frames in order, runs each call to completion before the next
/// (so pipelined calls are answered in order), and closes on protocol errors. Each call counts against its
/// uid's running calls or streams; one beyond the limit is answered with an error and the connection goes on.
struct Connection {
    let channel: NIOAsyncChannel<InboundFrame, ByteBuffer>
    let peer: PeerCredentials
    let activity: ConnectionActivity
    let gate: InputGate
    let ledger: PeerLedger
    let dispatcher: Dispatcher
    let maxNestingDepth: Int
    let maxFrameSize: Int
    let logger: Logger

    func run() async {
        let underlying = channel.channel
        do {
            try await channel.executeThenClose { inbound, outbound in
                // Handlers get cancelled when the connection closes under them (peer gone, timeouts, shutdown).
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await serve(inbound: inbound, outbound: outbound) }
                    group.addTask { try? await underlying.closeFuture.get() }
                    await group.next()
                    group.cancelAll()
                    underlying.close(promise: nil)
                }
            }
        } catch {
            logger.debug("Connection ended", metadata: ["error": "\(String(describing: error))"])
        }
    }

    private func serve(
        inbound: NIOAsyncChannelInboundStream<InboundFrame>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async {
        let allocator = channel.channel.allocator
        let send: @Sendable ([UInt8]) async throws -> Void = { bytes in
            try await outbound.write(allocator.buffer(bytes: bytes))
        }
        do {
            for try await frame in inbound {
                guard activity.beginCall() else { break }
                defer { activity.endCall() }
                let message: CallMessage
                let decoded = decode(frame)
                if case .message(let buffer) = frame { gate.take(bytes: buffer.readableBytes + 1) }
                switch decoded {
                case .success(let decoded): message = decoded
                case .failure(let error):
                    logger.debug("Closing on bad input", metadata: ["varlink.error": "\(error)", "peer": "\(peer)"])
                    try await send(ReplyEncoder.error(error))
                    return
                }
                let stream = message.more && !message.oneway
                if let refusal = ledger.beginCall(uid: peer.uid, privileged: gate.privileged, stream: stream) {
                    logger.debug("Call refused: limit reached", metadata: ["varlink.error": "\(refusal.name)", "peer": "\(peer)"])
                    if !message.oneway { try await send(ReplyEncoder.error(refusal)) }
                    continue
                }
                defer { ledger.endCall(uid: peer.uid, stream: stream) }
                try await dispatcher.dispatch(message, peer: peer, send: send)
            }
        } catch {
            logger.debug("Connection failed", metadata: ["error": "\(String(describing: error))"])
        }
    }

    private func decode(_ frame: InboundFrame) -> Result<CallMessage, VarlinkError> {
        guard case .message(let buffer) = frame else { return .failure(.frameTooLarge(limit: maxFrameSize)) }
        return buffer.withUnsafeReadableBytes { CallMessage.decode($0, maxNestingDepth: maxNestingDepth) }
    }
}
