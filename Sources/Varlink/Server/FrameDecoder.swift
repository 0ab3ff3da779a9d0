internal import NIOCore

/// What the frame decoder hands on: a message (without its NUL) or the news that one was too large.
enum InboundFrame: Sendable {
    case message(ByteBuffer)
    case tooLarge
}

/// Splits the byte stream at NUL bytes. A message longer than `maxFrameSize` yields ``InboundFrame/tooLarge``
/// once; everything after it is discarded (the connection is about to be closed), so memory stays bounded.
final class NULFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundFrame

    private let maxFrameSize: Int
    private var scanned = 0
    private var failed = false

    init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if failed {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let start = view.index(view.startIndex, offsetBy: scanned)
        if let nul = view[start...].firstIndex(of: 0) {
            let length = nul - view.startIndex
            scanned = 0
            guard length <= maxFrameSize else { return fail(context: context, buffer: &buffer) }
            let frame = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            context.fireChannelRead(wrapInboundOut(.message(frame)))
            return .continue
        }
        scanned = view.count
        if scanned > maxFrameSize { return fail(context: context, buffer: &buffer) }
        return .needMoreData
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A message without its NUL at the end of the stream is dropped.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    private func fail(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        failed = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.tooLarge))
        return .needMoreData
    }
}
