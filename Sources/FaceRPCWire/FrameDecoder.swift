import NIOCore

/// Why a byte stream could not be split into frames. Both are fatal for the
/// connection: after a bad length the stream cannot be resynchronised.
public enum FramingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 4-byte header declared more than the limit. Nothing was allocated for it.
    case frameTooLarge(length: UInt32, limit: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the limit of \(limit) bytes"
        }
    }
}

/// Splits a byte stream into frames: a 4-byte unsigned big-endian length, then
/// that many bytes of one encoded envelope.
///
/// An explicit state machine, independent of channels and sockets, so it can be
/// driven one byte at a time in tests. The declared length is checked against
/// `maxFrameBytes` as soon as the header is complete — before the body is
/// waited for or any memory is reserved for it.
public struct FrameDecoder: Sendable {
    public static let headerBytes = 4

    public enum State: Sendable, Equatable {
        case waitingForHeader
        case waitingForFrame(length: Int)
    }

    public private(set) var state: State = .waitingForHeader
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int) {
        precondition(maxFrameBytes >= 0 && maxFrameBytes <= Int(UInt32.max))
        self.maxFrameBytes = maxFrameBytes
    }

    /// True while a frame has begun arriving but is incomplete (header bytes
    /// count), given what is buffered. Used to time out half-sent frames.
    public func isMidFrame(buffered: ByteBuffer) -> Bool {
        switch state {
        case .waitingForHeader: return buffered.readableBytes > 0
        case .waitingForFrame: return true
        }
    }

    /// Takes the next complete frame body out of `buffer`, or returns nil when
    /// more bytes are needed. The returned buffer is a slice of `buffer`'s storage.
    public mutating func nextFrame(from buffer: inout ByteBuffer) throws(FramingError) -> ByteBuffer? {
        while true {
            switch state {
            case .waitingForHeader:
                guard let length = buffer.readInteger(endianness: .big, as: UInt32.self) else { return nil }
                guard Int(length) <= maxFrameBytes else {
                    throw .frameTooLarge(length: length, limit: maxFrameBytes)
                }
                state = .waitingForFrame(length: Int(length))
            case .waitingForFrame(let length):
                guard let body = buffer.readSlice(length: length) else { return nil }
                state = .waitingForHeader
                return body
            }
        }
    }
}

extension FrameDecoder {
    /// Takes whole frames off the front of `buffer` for as long as `accept`
    /// takes their bodies, reading them where they lie: no slice, no
    /// reference counting per frame. Returns how many frames were taken.
    ///
    /// Stops, leaving the frame for ``nextFrame(from:)``, at the first frame
    /// that is incomplete, over `maxFrameBytes` (``nextFrame(from:)`` then
    /// throws), or that `accept` declines, and does nothing at all in the
    /// middle of a frame (state ``State/waitingForFrame(length:)``). So
    /// mixing the two calls splits the stream exactly as ``nextFrame(from:)``
    /// alone would. `accept` must not keep the pointer.
    public mutating func takeFrames(from buffer: inout ByteBuffer,
                                    while accept: (UnsafeRawBufferPointer) -> Bool) -> Int {
        guard case .waitingForHeader = state else { return 0 }
        let limit = maxFrameBytes
        var taken = 0
        let consumed = buffer.withUnsafeReadableBytes { bytes -> Int in
            var offset = 0
            while bytes.count - offset >= Self.headerBytes {
                let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                let start = offset + Self.headerBytes
                guard length <= limit, bytes.count - start >= length,
                      accept(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]))
                else { break }
                offset = start + length
                taken += 1
            }
            return offset
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        return taken
    }
}

/// Writes frames: the 4-byte big-endian length, then the body.
public enum FrameEncoder {
    /// Appends one frame holding `body` to `buffer`.
    public static func writeFrame(_ body: some Collection<UInt8>, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(body.count), endianness: .big)
        buffer.writeBytes(body)
    }

    /// A new buffer holding one frame.
    public static func frame(_ body: some Collection<UInt8>, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: FrameDecoder.headerBytes + body.count)
        writeFrame(body, to: &buffer)
        return buffer
    }
}

/// A ByteToMessageDecoder around ``FrameDecoder`` for pipelines that want one
/// (the client). The server drives ``FrameDecoder`` itself to time partial frames.
public struct FrameToMessageDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer
    private var decoder: FrameDecoder

    public init(maxFrameBytes: Int) { decoder = FrameDecoder(maxFrameBytes: maxFrameBytes) }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try decoder.nextFrame(from: &buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decoder.nextFrame(from: &buffer)
    }
}
