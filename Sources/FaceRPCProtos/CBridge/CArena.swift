internal import CFaceRPCProtos

/// Owns the C memory of one protobuf-c message tree while it is packed.
///
/// A bump allocator over 4 KiB chunks: building an envelope takes a handful
/// of small structs and strings, and all of it is released together in
/// `deinit` when the encode call returns. Not `Sendable`: an arena lives
/// inside a single `serializedBytes()` call.
final class CArena {
    private static let chunkSize = 4096
    private static let chunkAlignment = 16

    private var chunks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var end: UnsafeMutableRawPointer?

    init() {}

    deinit {
        for chunk in chunks {
            chunk.deallocate()
        }
    }

    /// Uninitialized memory for `byteCount` bytes, valid until the arena dies.
    func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        precondition(alignment <= Self.chunkAlignment && byteCount >= 0)
        if let cursor, let end {
            let aligned = cursor.alignedUp(toMultipleOf: alignment)
            if end - aligned >= byteCount {
                self.cursor = aligned + byteCount
                return aligned
            }
        }
        let size = max(Self.chunkSize, byteCount)
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.chunkAlignment)
        chunks.append(chunk)
        cursor = chunk + byteCount
        end = chunk + size
        return chunk
    }

    /// Zero-filled storage for one C struct `T`; the caller runs its
    /// protobuf-c `__init` function and fills it.
    func new<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        let size = MemoryLayout<T>.stride
        let raw = allocate(byteCount: size, alignment: MemoryLayout<T>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return raw.bindMemory(to: T.self, capacity: 1)
    }

    /// A NUL-terminated copy of `string`'s UTF-8 (protobuf-c stops at the first NUL).
    func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        let count = string.utf8.count
        let raw = allocate(byteCount: count + 1, alignment: 1)
        let bytes = raw.bindMemory(to: UInt8.self, capacity: count + 1)
        let buffer = UnsafeMutableBufferPointer(start: bytes, count: count)
        let (_, written) = buffer.initialize(from: string.utf8)
        assert(written == count)
        bytes[count] = 0
        // CChar and UInt8 may alias each other.
        return raw.assumingMemoryBound(to: CChar.self)
    }

    /// A copy of `values` (a repeated scalar field), or `nil` when empty.
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = allocate(
            byteCount: MemoryLayout<T>.stride * values.count, alignment: MemoryLayout<T>.alignment
        ).bindMemory(to: T.self, capacity: values.count)
        _ = UnsafeMutableBufferPointer(start: pointer, count: values.count).initialize(from: values)
        return pointer
    }

    /// A `char **` of copies of `strings` (a repeated string field), or `nil` when empty.
    func cStrings(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard !strings.isEmpty else { return nil }
        let pointers = arrayStorage(of: UnsafeMutablePointer<CChar>?.self, count: strings.count)
        for (index, string) in strings.enumerated() {
            pointers[index] = cString(string)
        }
        return pointers
    }

    /// A `Message **` of built sub-messages (a repeated message field), or `nil` when empty.
    func messages<M: CArenaBuildable>(_ messages: [M]) -> UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>? {
        guard !messages.isEmpty else { return nil }
        let pointers = arrayStorage(of: UnsafeMutablePointer<M.CMessage>?.self, count: messages.count)
        for (index, message) in messages.enumerated() {
            pointers[index] = message.build(in: self)
        }
        return pointers
    }

    private func arrayStorage<T>(of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        allocate(byteCount: MemoryLayout<T>.stride * count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: count)
    }
}
