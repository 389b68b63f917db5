import FaceRPCWire
import NIOCore
import Testing

/// The framing state machine, fed the way a socket might deliver bytes: one at
/// a time, split at every position, and many frames coalesced into one read.
@Suite struct FrameDecoderTests {
    static let allocator = ByteBufferAllocator()

    /// Frames of assorted sizes, including empty bodies.
    static func sampleBodies() -> [[UInt8]] {
        var generator = SystemRandomNumberGenerator()
        return [0, 1, 3, 4, 5, 17, 255, 256, 1000, 4096].map { size in
            (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
    }

    static func stream(_ bodies: [[UInt8]]) -> [UInt8] {
        var buffer = allocator.buffer(capacity: 0)
        for body in bodies { FrameEncoder.writeFrame(body, to: &buffer) }
        return Array(buffer.readableBytesView)
    }

    /// Feeds `chunks` in order, collecting every frame the decoder emits.
    static func decode(_ chunks: [ArraySlice<UInt8>], max: Int = 1 << 20) throws -> [[UInt8]] {
        var decoder = FrameDecoder(maxFrameBytes: max)
        var cumulation = allocator.buffer(capacity: 0)
        var frames: [[UInt8]] = []
        for chunk in chunks {
            cumulation.writeBytes(chunk)
            while let frame = try decoder.nextFrame(from: &cumulation) {
                frames.append(Array(frame.readableBytesView))
            }
        }
        #expect(decoder.state == .waitingForHeader)
        #expect(cumulation.readableBytes == 0)
        return frames
    }

    @Test func oneByteAtATime() throws {
        let bodies = Self.sampleBodies()
        let bytes = Self.stream(bodies)
        let frames = try Self.decode(bytes.indices.map { bytes[$0...$0] })
        #expect(frames == bodies)
    }

    @Test func allFramesCoalescedInOneRead() throws {
        let bodies = Self.sampleBodies()
        let bytes = Self.stream(bodies)
        #expect(try Self.decode([bytes[...]]) == bodies)
    }

    /// `takeFrames` in front of `nextFrame`, as the server reads: whatever
    /// the split and whichever frames the fast path accepts, the frames come
    /// out once each, in order.
    @Test func takeFramesThenNextFrameKeepsEveryFrameInOrder() throws {
        let bodies: [[UInt8]] = [[2, 1], [4], [], [3, 3, 3], [6, 0], Array(repeating: 8, count: 40), [5], [0]]
        let bytes = Self.stream(bodies)
        // Accept bodies that start with an even byte: runs of accepted and declined frames.
        let accept: (UnsafeRawBufferPointer) -> Bool = { $0.first.map { $0 % 2 == 0 } ?? false }
        for split in 0...bytes.count {
            var decoder = FrameDecoder(maxFrameBytes: 1 << 20)
            var cumulation = Self.allocator.buffer(capacity: 0)
            var out: [[UInt8]] = []
            for chunk in [bytes[..<split], bytes[split...]] {
                cumulation.writeBytes(chunk)
                while true {
                    var taken: [[UInt8]] = []
                    let count = decoder.takeFrames(from: &cumulation) { body in
                        guard accept(body) else { return false }
                        taken.append(Array(body))
                        return true
                    }
                    #expect(count == taken.count)
                    out += taken
                    guard let frame = try decoder.nextFrame(from: &cumulation) else { break }
                    out.append(Array(frame.readableBytesView))
                }
            }
            #expect(out == bodies, "split at \(split)")
            #expect(decoder.state == .waitingForHeader && cumulation.readableBytes == 0)
        }
    }

    /// A frame over the limit is left for `nextFrame`, which refuses it.
    @Test func takeFramesLeavesAnOversizedFrame() throws {
        var decoder = FrameDecoder(maxFrameBytes: 8)
        var buffer = Self.allocator.buffer(capacity: 0)
        buffer.writeBytes(Self.stream([[1, 2], Array(repeating: 0, count: 9), [3]]))
        #expect(decoder.takeFrames(from: &buffer) { _ in true } == 1)
        #expect(throws: FramingError.frameTooLarge(length: 9, limit: 8)) { try decoder.nextFrame(from: &buffer) }
    }

    @Test func splitAtEveryPosition() throws {
        let bodies: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 9, count: 40), [7]]
        let bytes = Self.stream(bodies)
        for split in 0...bytes.count {
            let frames = try Self.decode([bytes[..<split], bytes[split...]])
            #expect(frames == bodies, "split at \(split)")
        }
    }

    @Test func splitAtEveryPairOfPositions() throws {
        let bodies: [[UInt8]] = [[1, 2], [3, 4, 5, 6, 7]]
        let bytes = Self.stream(bodies)
        for first in 0...bytes.count {
            for second in first...bytes.count {
                let frames = try Self.decode([bytes[..<first], bytes[first..<second], bytes[second...]])
                #expect(frames == bodies)
            }
        }
    }

    @Test func statesAreExplicit() throws {
        var decoder = FrameDecoder(maxFrameBytes: 100)
        var buffer = Self.allocator.buffer(capacity: 0)
        buffer.writeBytes([0, 0, 0])
        #expect(try decoder.nextFrame(from: &buffer) == nil)
        #expect(decoder.state == .waitingForHeader)
        #expect(decoder.isMidFrame(buffered: buffer))
        buffer.writeBytes([5, 1, 2])
        #expect(try decoder.nextFrame(from: &buffer) == nil)
        #expect(decoder.state == .waitingForFrame(length: 5))
        buffer.writeBytes([3, 4, 5])
        let frame = try decoder.nextFrame(from: &buffer)
        #expect(frame.map { Array($0.readableBytesView) } == [1, 2, 3, 4, 5])
        #expect(decoder.state == .waitingForHeader)
        #expect(!decoder.isMidFrame(buffered: buffer))
    }

    @Test func oversizeLengthIsRefusedFromTheHeaderAlone() {
        var decoder = FrameDecoder(maxFrameBytes: 1024)
        var buffer = Self.allocator.buffer(capacity: 0)
        // Only the header: the body never arrives, and need not.
        buffer.writeInteger(UInt32(1025), endianness: .big)
        #expect(throws: FramingError.frameTooLarge(length: 1025, limit: 1024)) {
            try decoder.nextFrame(from: &buffer)
        }
        var huge = Self.allocator.buffer(capacity: 0)
        huge.writeInteger(UInt32.max, endianness: .big)
        var fresh = FrameDecoder(maxFrameBytes: 4 << 20)
        #expect(throws: FramingError.frameTooLarge(length: UInt32.max, limit: 4 << 20)) {
            try fresh.nextFrame(from: &huge)
        }
    }

    @Test func exactlyTheLimitIsAccepted() throws {
        let body = [UInt8](repeating: 0xAB, count: 64)
        let frames = try Self.decode([Self.stream([body])[...]], max: 64)
        #expect(frames == [body])
    }
}
