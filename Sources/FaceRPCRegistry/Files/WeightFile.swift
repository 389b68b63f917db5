import FaceRPCEngine
import Foundation

/// Why a `.frpc` file could not be read or written.
public enum WeightFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened, stat-ed, mapped or written.
    case io(path: String, reason: String)
    /// Shorter than its header says (or than a header).
    case truncated(expectedBytes: UInt64, actualBytes: UInt64)
    /// Longer than its header says.
    case trailingBytes(expectedBytes: UInt64, actualBytes: UInt64)
    case badMagic
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// A header field is inconsistent (section bounds, alignment, header length).
    case malformedHeader(String)
    case headerChecksumMismatch(stored: UInt32, computed: UInt32)
    case payloadChecksumMismatch(stored: UInt32, computed: UInt32)
    /// A size or count exceeds one of ``WeightFile/Limits``.
    case limitExceeded(String, value: UInt64, limit: UInt64)
    /// The op table does not decode; `offset` is the file offset of the bad byte.
    case malformedOpTable(offset: Int, reason: String)
    /// The graph breaks a rule of Graph.swift (e.g. weight count vs shape);
    /// raised when reading and, for the same rules, before writing.
    case invalidGraph(String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .truncated(let e, let a): "weights file is truncated: \(a) bytes, expected \(e)"
        case .trailingBytes(let e, let a): "weights file has trailing bytes: \(a) bytes, expected \(e)"
        case .badMagic: "not a facerpc weights file (bad magic)"
        case .unsupportedVersion(let f, let s): "weights file format version \(f) is not supported (this build reads version \(s))"
        case .malformedHeader(let why): "weights file header is malformed: \(why)"
        case .headerChecksumMismatch(let s, let c):
            "weights file header checksum mismatch (stored \(hex32(s)), computed \(hex32(c))): the file is corrupt"
        case .payloadChecksumMismatch(let s, let c):
            "weights file payload checksum mismatch (stored \(hex32(s)), computed \(hex32(c))): the file is corrupt"
        case .limitExceeded(let what, let value, let limit): "weights file \(what) is \(value), over the limit of \(limit)"
        case .malformedOpTable(let offset, let reason): "weights file op table is malformed at byte \(offset): \(reason)"
        case .invalidGraph(let why): "invalid graph: \(why)"
        }
    }
}

private func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}

/// The native weight format, `.frpc`: one file holding a whole ``Graph``
/// (topology, hyper-parameters and float32 weights), laid out so that the
/// weights can be memory-mapped and every byte is covered by a CRC-32.
///
/// The byte layout is specified in docs/MODELS.md. In short: a 64-byte
/// header (magic `FRPCWGT\0`, version, section offsets, CRCs), an op table
/// with every node and its scalar fields, then 64-byte aligned float32
/// blobs, little-endian.
///
/// Reading checks magic, version, both checksums and every count against
/// ``Limits`` before allocating, so a truncated, corrupted or hostile file
/// throws ``WeightFileError`` instead of crashing or allocating without bound.
/// Writing is atomic (temporary file, fsync, rename).
public struct WeightFile: GraphReader {
    /// Named limits checked while reading (and writing, so that every file
    /// written can be read back).
    public enum Limits {
        /// Largest file accepted.
        public static let maxFileBytes: UInt64 = 4 << 30
        /// Largest op table (the weights are outside it).
        public static let maxOpTableBytes: UInt64 = 16 << 20
        public static let maxNodes = 65_536
        /// Node and tensor names, in UTF-8 bytes.
        public static let maxStringBytes = 1024
        /// Inputs or outputs of one node.
        public static let maxTensorsPerNode = 16
        /// Rank of a per-sample shape, reshape target or transpose.
        public static let maxRank = 8
        /// Channels, features and shape dimensions.
        public static let maxDimension = 1 << 24
        /// Kernel sides, strides, dilations, pads, LRN size.
        public static let maxSpatial = 1 << 16
    }

    /// `FRPCWGT` followed by a zero byte.
    public static let magic: [UInt8] = [0x46, 0x52, 0x50, 0x43, 0x57, 0x47, 0x54, 0x00]
    /// The only version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    /// Fixed size of the version-1 header.
    public static let headerLength = 64
    /// Alignment of the blob section and of every blob, in bytes (a cache
    /// line and an AVX-512 vector).
    public static let blobAlignment = 64

    public init() {}

    /// ``GraphReader`` conformance: the `frpc` format.
    public func readGraph(path: String) throws -> Graph {
        try Self.read(path: path)
    }

    // MARK: Writing

    /// Encodes `graph` and atomically replaces `path` with it.
    /// - Throws: ``WeightFileError/invalidGraph(_:)`` or ``WeightFileError/limitExceeded(_:value:limit:)``
    ///   if the graph could not be read back; ``WeightFileError/io(path:reason:)``.
    public static func write(_ graph: Graph, to path: String) throws {
        let bytes = try encode(graph)
        do {
            try RegistryFiles.write(bytes, to: path)
        } catch let RegistryError.io(path, reason) {
            throw WeightFileError.io(path: path, reason: reason)
        }
    }

    /// The complete file image of `graph`.
    public static func encode(_ graph: Graph) throws -> [UInt8] {
        try GraphValidator.validate(graph)
        var table = ByteWriter()
        var blobs: [[Float]] = []
        var blobOffsets: [Int] = []  // relative to the blob section

        var blobCursor = 0
        // Blob references are written as placeholders and patched once the
        // blob section's file offset is known (after the op table's length is).
        var patches: [(tablePosition: Int, blobIndex: Int)] = []
        func blob(_ values: [Float]) {
            patches.append((table.count, blobs.count))
            table.u64(0)
            table.u64(UInt64(values.count))
            blobs.append(values)
            blobOffsets.append(blobCursor)
            blobCursor += roundUp(values.count * 4, to: blobAlignment)
        }

        table.u32(UInt32(graph.nodes.count))
        table.string(graph.inputName)
        table.string(graph.outputName)
        table.ints8(graph.inputShape)
        for node in graph.nodes {
            table.string(node.name)
            table.u8(UInt8(node.inputs.count))
            for name in node.inputs { table.string(name) }
            table.u8(UInt8(node.outputs.count))
            for name in node.outputs { table.string(name) }
            switch node.op {
            case .conv2d(let c):
                table.u8(Opcode.conv2d.rawValue)
                for v in [c.inChannels, c.outChannels, c.kernelH, c.kernelW, c.strideH, c.strideW,
                          c.padTop, c.padLeft, c.padBottom, c.padRight, c.dilationH, c.dilationW, c.groups] {
                    table.i32(v)
                }
                table.u8(c.activation.code)
                blob(c.weights)
                blob(c.bias)
            case .fullyConnected(let f):
                table.u8(Opcode.fullyConnected.rawValue)
                table.i32(f.inFeatures)
                table.i32(f.outFeatures)
                table.u8(f.activation.code)
                blob(f.weights)
                blob(f.bias)
            case .maxPool(let p):
                table.u8(Opcode.maxPool.rawValue)
                table.pool(p)
            case .averagePool(let p):
                table.u8(Opcode.averagePool.rawValue)
                table.pool(p)
            case .globalAveragePool:
                table.u8(Opcode.globalAveragePool.rawValue)
            case .lrn(let l):
                table.u8(Opcode.lrn.rawValue)
                table.i32(l.size)
                table.f32(l.alpha)
                table.f32(l.beta)
                table.f32(l.bias)
            case .relu:
                table.u8(Opcode.relu.rawValue)
            case .prelu(let slopes):
                table.u8(Opcode.prelu.rawValue)
                blob(slopes)
            case .affine(let scale, let shift):
                table.u8(Opcode.affine.rawValue)
                blob(scale)
                blob(shift)
            case .add:
                table.u8(Opcode.add.rawValue)
            case .pad(let top, let left, let bottom, let right, let channelsAfter, let value):
                table.u8(Opcode.pad.rawValue)
                for v in [top, left, bottom, right, channelsAfter] { table.i32(v) }
                table.f32(value)
            case .flatten:
                table.u8(Opcode.flatten.rawValue)
            case .reshape(let shape):
                table.u8(Opcode.reshape.rawValue)
                table.ints8(shape)
            case .transpose(let perm):
                table.u8(Opcode.transpose.rawValue)
                table.ints8(perm)
            case .softmax:
                table.u8(Opcode.softmax.rawValue)
            case .dropout(let p):
                table.u8(Opcode.dropout.rawValue)
                table.f32(p)
            }
        }

        let tableOffset = headerLength
        let tableLength = table.count
        guard UInt64(tableLength) <= Limits.maxOpTableBytes else {
            throw WeightFileError.limitExceeded("op table length", value: UInt64(tableLength), limit: Limits.maxOpTableBytes)
        }
        let blobSectionOffset = roundUp(tableOffset + tableLength, to: blobAlignment)
        let blobSectionLength = blobCursor
        let fileLength = blobSectionOffset + blobSectionLength
        guard UInt64(fileLength) <= Limits.maxFileBytes else {
            throw WeightFileError.limitExceeded("file length", value: UInt64(fileLength), limit: Limits.maxFileBytes)
        }
        for patch in patches {
            table.patchU64(at: patch.tablePosition, UInt64(blobSectionOffset + blobOffsets[patch.blobIndex]))
        }

        var file = [UInt8](repeating: 0, count: fileLength)
        file.withUnsafeMutableBytes { out in
            out.baseAddress!.advanced(by: tableOffset).copyMemory(from: table.bytes, byteCount: tableLength)
            for (index, values) in blobs.enumerated() {
                let destination = out.baseAddress!.advanced(by: blobSectionOffset + blobOffsets[index])
                values.withUnsafeBufferPointer { source in
                    #if _endian(little)
                    destination.copyMemory(from: source.baseAddress!, byteCount: source.count * 4)
                    #else
                    for (i, v) in source.enumerated() {
                        destination.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                    }
                    #endif
                }
            }
            let payloadCRC = CRC32.checksum(UnsafeRawBufferPointer(rebasing: out[headerLength...]))
            var header = ByteWriter()
            header.raw(magic)
            header.u32(formatVersion)
            header.u32(UInt32(headerLength))
            header.u64(UInt64(tableOffset))
            header.u64(UInt64(tableLength))
            header.u64(UInt64(blobSectionOffset))
            header.u64(UInt64(blobSectionLength))
            header.u64(UInt64(fileLength))
            header.u32(payloadCRC)
            header.u32(CRC32.checksum(header.bytes))
            precondition(header.count == headerLength)
            out.baseAddress!.copyMemory(from: header.bytes, byteCount: headerLength)
        }
        return file
    }

    // MARK: Reading

    /// Reads and fully validates the `.frpc` file at `path`. The file is
    /// memory-mapped; weights are copied out, so the mapping is released on return.
    /// Replace weights files by rename (as ``write(_:to:)`` does), never in place:
    /// truncating a mapped file under a reader is outside what any check can catch.
    /// - Throws: ``WeightFileError``.
    public static func read(path: String) throws -> Graph {
        let size: UInt64
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        } catch {
            throw WeightFileError.io(path: path, reason: "cannot stat: \(error.localizedDescription)")
        }
        guard size <= Limits.maxFileBytes else {
            throw WeightFileError.limitExceeded("file length", value: size, limit: Limits.maxFileBytes)
        }
        guard size >= UInt64(headerLength) else {
            throw WeightFileError.truncated(expectedBytes: UInt64(headerLength), actualBytes: size)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw WeightFileError.io(path: path, reason: "cannot map: \(error.localizedDescription)")
        }
        return try data.withUnsafeBytes { try decode($0) }
    }

    /// Decodes and fully validates a complete file image.
    /// - Throws: ``WeightFileError``.
    public static func decode(_ file: UnsafeRawBufferPointer) throws -> Graph {
        let actual = UInt64(file.count)
        guard file.count >= headerLength, let base = file.baseAddress else {
            throw WeightFileError.truncated(expectedBytes: UInt64(headerLength), actualBytes: actual)
        }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }

        guard magic.indices.allSatisfy({ file[$0] == magic[$0] }) else { throw WeightFileError.badMagic }
        let version = u32(8)
        guard version == formatVersion else {
            throw WeightFileError.unsupportedVersion(found: version, supported: formatVersion)
        }
        guard u32(12) == UInt32(headerLength) else {
            throw WeightFileError.malformedHeader("header length is \(u32(12)), version 1 requires \(headerLength)")
        }
        let storedHeaderCRC = u32(60)
        let computedHeaderCRC = CRC32.checksum(UnsafeRawBufferPointer(rebasing: file[0..<60]))
        guard storedHeaderCRC == computedHeaderCRC else {
            throw WeightFileError.headerChecksumMismatch(stored: storedHeaderCRC, computed: computedHeaderCRC)
        }
        let tableOffset = u64(16), tableLength = u64(24)
        let blobOffset = u64(32), blobLength = u64(40)
        let fileLength = u64(48)
        guard fileLength <= Limits.maxFileBytes else {
            throw WeightFileError.limitExceeded("file length", value: fileLength, limit: Limits.maxFileBytes)
        }
        guard actual >= fileLength else { throw WeightFileError.truncated(expectedBytes: fileLength, actualBytes: actual) }
        guard actual == fileLength else { throw WeightFileError.trailingBytes(expectedBytes: fileLength, actualBytes: actual) }
        guard tableLength <= Limits.maxOpTableBytes else {
            throw WeightFileError.limitExceeded("op table length", value: tableLength, limit: Limits.maxOpTableBytes)
        }
        // All values are now <= 4 GiB, so these sums cannot overflow.
        guard tableOffset == UInt64(headerLength) else {
            throw WeightFileError.malformedHeader("op table offset is \(tableOffset), expected \(headerLength)")
        }
        guard blobOffset % UInt64(blobAlignment) == 0, blobLength % UInt64(blobAlignment) == 0 else {
            throw WeightFileError.malformedHeader("blob section \(blobOffset)+\(blobLength) is not \(blobAlignment)-byte aligned")
        }
        guard tableOffset + tableLength <= blobOffset, blobOffset <= fileLength, blobLength == fileLength - blobOffset else {
            throw WeightFileError.malformedHeader(
                "sections overlap or leave the file (op table \(tableOffset)+\(tableLength), blobs \(blobOffset)+\(blobLength), file \(fileLength))")
        }
        let storedPayloadCRC = u32(56)
        let computedPayloadCRC = CRC32.checksum(UnsafeRawBufferPointer(rebasing: file[headerLength...]))
        guard storedPayloadCRC == computedPayloadCRC else {
            throw WeightFileError.payloadChecksumMismatch(stored: storedPayloadCRC, computed: computedPayloadCRC)
        }

        var reader = ByteReader(file: file, start: Int(tableOffset), end: Int(tableOffset + tableLength),
                                blobStart: Int(blobOffset), blobEnd: Int(fileLength))
        let graph = try reader.graph()
        guard reader.position == reader.end else {
            throw WeightFileError.malformedOpTable(offset: reader.position, reason: "\(reader.end - reader.position) unread bytes after the last node")
        }
        try GraphValidator.validate(graph)
        return graph
    }
}

// MARK: - Encoding details

/// One byte per op in the op table. Values are part of the file format:
/// never renumber, only append.
enum Opcode: UInt8 {
    case conv2d = 1
    case fullyConnected = 2
    case maxPool = 3
    case averagePool = 4
    case globalAveragePool = 5
    case lrn = 6
    case relu = 7
    case prelu = 8
    case affine = 9
    case add = 10
    case pad = 11
    case flatten = 12
    case reshape = 13
    case transpose = 14
    case softmax = 15
    case dropout = 16
}

extension Activation {
    var code: UInt8 {
        switch self {
        case .none: 0
        case .relu: 1
        }
    }
}

@inline(__always)
private func roundUp(_ value: Int, to alignment: Int) -> Int {
    (value + alignment - 1) / alignment * alignment
}

private struct ByteWriter {
    var bytes: [UInt8] = []
    var count: Int { bytes.count }

    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    /// Callers validated the range (GraphValidator) before encoding.
    mutating func i32(_ v: Int) { u32(UInt32(bitPattern: Int32(v))) }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u16(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    /// A u8 count followed by that many i32 values.
    mutating func ints8(_ values: [Int]) {
        u8(UInt8(values.count))
        for v in values { i32(v) }
    }
    mutating func pool(_ p: Pool2DSpec) {
        for v in [p.kernelH, p.kernelW, p.strideH, p.strideW, p.padTop, p.padLeft, p.padBottom, p.padRight] { i32(v) }
        u8(p.ceilMode ? 1 : 0)
        u8(p.countIncludePad ? 1 : 0)
    }
    mutating func patchU64(at position: Int, _ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { src in
            for i in 0..<8 { bytes[position + i] = src[i] }
        }
    }
}

/// Bounds-checked cursor over the op table; every read that would leave the
/// table throws instead of trapping.
private struct ByteReader {
    let file: UnsafeRawBufferPointer
    var position: Int
    let end: Int
    let blobStart: Int
    let blobEnd: Int

    init(file: UnsafeRawBufferPointer, start: Int, end: Int, blobStart: Int, blobEnd: Int) {
        self.file = file; self.position = start; self.end = end; self.blobStart = blobStart; self.blobEnd = blobEnd
    }

    func fail(_ reason: String, at offset: Int? = nil) -> WeightFileError {
        .malformedOpTable(offset: offset ?? position, reason: reason)
    }

    mutating func take(_ n: Int, _ what: String) throws -> Int {
        guard n <= end - position else { throw fail("\(what) needs \(n) bytes, \(end - position) left in the op table") }
        defer { position += n }
        return position
    }

    mutating func u8(_ what: String) throws -> UInt8 {
        file[try take(1, what)]
    }
    mutating func u16(_ what: String) throws -> UInt16 {
        UInt16(littleEndian: file.loadUnaligned(fromByteOffset: try take(2, what), as: UInt16.self))
    }
    mutating func u32(_ what: String) throws -> UInt32 {
        UInt32(littleEndian: file.loadUnaligned(fromByteOffset: try take(4, what), as: UInt32.self))
    }
    mutating func u64(_ what: String) throws -> UInt64 {
        UInt64(littleEndian: file.loadUnaligned(fromByteOffset: try take(8, what), as: UInt64.self))
    }
    mutating func f32(_ what: String) throws -> Float { Float(bitPattern: try u32(what)) }

    /// An i32 that must lie in `range`.
    mutating func int(_ what: String, _ range: ClosedRange<Int>) throws -> Int {
        let at = position
        let v = Int(Int32(bitPattern: try u32(what)))
        guard range.contains(v) else { throw fail("\(what) is \(v), allowed \(range.lowerBound)...\(range.upperBound)", at: at) }
        return v
    }

    mutating func bool(_ what: String) throws -> Bool {
        let at = position
        switch try u8(what) {
        case 0: return false
        case 1: return true
        case let v: throw fail("\(what) is \(v), expected 0 or 1", at: at)
        }
    }

    mutating func activation() throws -> Activation {
        let at = position
        switch try u8("activation") {
        case 0: return .none
        case 1: return .relu
        case let v: throw fail("unknown activation code \(v)", at: at)
        }
    }

    mutating func string(_ what: String) throws -> String {
        let at = position
        let length = Int(try u16("\(what) length"))
        guard length <= WeightFile.Limits.maxStringBytes else {
            throw fail("\(what) is \(length) bytes, over the limit of \(WeightFile.Limits.maxStringBytes)", at: at)
        }
        let start = try take(length, what)
        let bytes = UnsafeRawBufferPointer(rebasing: file[start..<(start + length)])
        // String(bytes:encoding:) rather than String(validating:as:), which needs macOS 15.
        guard let s = String(bytes: bytes, encoding: .utf8) else { throw fail("\(what) is not valid UTF-8", at: start) }
        return s
    }

    /// A u8 count (at most ``WeightFile/Limits/maxRank``) and that many i32 in `range`.
    mutating func ints8(_ what: String, _ range: ClosedRange<Int>) throws -> [Int] {
        let at = position
        let count = Int(try u8("\(what) rank"))
        guard count <= WeightFile.Limits.maxRank else {
            throw fail("\(what) has rank \(count), over the limit of \(WeightFile.Limits.maxRank)", at: at)
        }
        var values: [Int] = []
        for i in 0..<count { values.append(try int("\(what)[\(i)]", range)) }
        return values
    }

    /// A blob reference; bounds and alignment are checked before the copy.
    mutating func blob(_ what: String) throws -> [Float] {
        let at = position
        let offset = try u64("\(what) offset")
        let count = try u64("\(what) count")
        guard offset >= UInt64(blobStart), offset <= UInt64(blobEnd), offset % UInt64(WeightFile.blobAlignment) == 0 else {
            throw fail("\(what) offset \(offset) is outside the blob section or not \(WeightFile.blobAlignment)-byte aligned", at: at)
        }
        guard count <= (UInt64(blobEnd) - offset) / 4 else {
            throw fail("\(what) has \(count) floats, more than the \((UInt64(blobEnd) - offset) / 4) left in the file", at: at)
        }
        let n = Int(count), start = Int(offset)
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            #if _endian(little)
            if n > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: file.baseAddress! + start, byteCount: n * 4)
            }
            #else
            for i in 0..<n {
                buffer[i] = Float(bitPattern: UInt32(littleEndian: file.loadUnaligned(fromByteOffset: start + i * 4, as: UInt32.self)))
            }
            #endif
            initialized = n
        }
    }

    mutating func pool() throws -> Pool2DSpec {
        let s = WeightFile.Limits.maxSpatial
        let kh = try int("kernelH", 1...s), kw = try int("kernelW", 1...s)
        let sh = try int("strideH", 1...s), sw = try int("strideW", 1...s)
        let pt = try int("padTop", 0...s), pl = try int("padLeft", 0...s)
        let pb = try int("padBottom", 0...s), pr = try int("padRight", 0...s)
        let ceil = try bool("ceilMode"), countPad = try bool("countIncludePad")
        return Pool2DSpec(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
                          padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
                          ceilMode: ceil, countIncludePad: countPad)
    }

    mutating func graph() throws -> Graph {
        let L = WeightFile.Limits.self
        let at = position
        let nodeCount = Int(try u32("node count"))
        guard nodeCount <= L.maxNodes else { throw fail("node count \(nodeCount) is over the limit of \(L.maxNodes)", at: at) }
        let inputName = try string("graph input name")
        let outputName = try string("graph output name")
        let inputShape = try ints8("graph input shape", 1...L.maxDimension)
        var nodes: [GraphNode] = []
        nodes.reserveCapacity(nodeCount)
        for _ in 0..<nodeCount {
            let name = try string("node name")
            let inputs = try names("inputs of '\(name)'")
            let outputs = try names("outputs of '\(name)'")
            let opAt = position
            let code = try u8("opcode")
            guard let opcode = Opcode(rawValue: code) else { throw fail("node '\(name)' has unknown opcode \(code)", at: opAt) }
            nodes.append(GraphNode(name: name, op: try op(opcode), inputs: inputs, outputs: outputs))
        }
        return Graph(inputName: inputName, inputShape: inputShape, nodes: nodes, outputName: outputName)
    }

    mutating func names(_ what: String) throws -> [String] {
        let at = position
        let count = Int(try u8("\(what) count"))
        guard count <= WeightFile.Limits.maxTensorsPerNode else {
            throw fail("\(what): \(count) tensors, over the limit of \(WeightFile.Limits.maxTensorsPerNode)", at: at)
        }
        var result: [String] = []
        for _ in 0..<count { result.append(try string(what)) }
        return result
    }

    mutating func op(_ opcode: Opcode) throws -> LayerOp {
        let d = WeightFile.Limits.maxDimension, s = WeightFile.Limits.maxSpatial
        switch opcode {
        case .conv2d:
            let inC = try int("inChannels", 1...d), outC = try int("outChannels", 1...d)
            let kh = try int("kernelH", 1...s), kw = try int("kernelW", 1...s)
            let sh = try int("strideH", 1...s), sw = try int("strideW", 1...s)
            let pt = try int("padTop", 0...s), pl = try int("padLeft", 0...s)
            let pb = try int("padBottom", 0...s), pr = try int("padRight", 0...s)
            let dh = try int("dilationH", 1...s), dw = try int("dilationW", 1...s)
            let groups = try int("groups", 1...d)
            let act = try activation()
            let weights = try blob("conv weights"), bias = try blob("conv bias")
            return .conv2d(Conv2DSpec(inChannels: inC, outChannels: outC, kernelH: kh, kernelW: kw,
                                      strideH: sh, strideW: sw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
                                      dilationH: dh, dilationW: dw, groups: groups,
                                      weights: weights, bias: bias, activation: act))
        case .fullyConnected:
            let inF = try int("inFeatures", 1...d), outF = try int("outFeatures", 1...d)
            let act = try activation()
            let weights = try blob("fc weights"), bias = try blob("fc bias")
            return .fullyConnected(FullyConnectedSpec(inFeatures: inF, outFeatures: outF, weights: weights, bias: bias, activation: act))
        case .maxPool:
            return .maxPool(try pool())
        case .averagePool:
            return .averagePool(try pool())
        case .globalAveragePool:
            return .globalAveragePool
        case .lrn:
            let size = try int("lrn size", 1...s)
            return .lrn(LRNSpec(size: size, alpha: try f32("lrn alpha"), beta: try f32("lrn beta"), bias: try f32("lrn bias")))
        case .relu:
            return .relu
        case .prelu:
            return .prelu(slopes: try blob("prelu slopes"))
        case .affine:
            let scale = try blob("affine scale")
            return .affine(scale: scale, shift: try blob("affine shift"))
        case .add:
            return .add
        case .pad:
            let top = try int("pad top", 0...s), left = try int("pad left", 0...s)
            let bottom = try int("pad bottom", 0...s), right = try int("pad right", 0...s)
            let channelsAfter = try int("pad channelsAfter", 0...d)
            return .pad(top: top, left: left, bottom: bottom, right: right, channelsAfter: channelsAfter, value: try f32("pad value"))
        case .flatten:
            return .flatten
        case .reshape:
            return .reshape(try ints8("reshape shape", -1...d))
        case .transpose:
            return .transpose(perm: try ints8("transpose perm", 0...(WeightFile.Limits.maxRank - 1)))
        case .softmax:
            return .softmax
        case .dropout:
            return .dropout(p: try f32("dropout p"))
        }
    }
}

// MARK: - Validation shared by reader and writer

/// The structural rules of Graph.swift that can be checked node by node
/// (shape inference across nodes is the executor's job). The writer applies
/// them too, so any file it produces reads back.
enum GraphValidator {
    static func validate(_ graph: Graph) throws {
        let L = WeightFile.Limits.self
        func fail(_ why: String) -> WeightFileError { .invalidGraph(why) }
        func checkName(_ s: String, _ what: String) throws {
            guard s.utf8.count <= L.maxStringBytes else {
                throw WeightFileError.limitExceeded("\(what) length", value: UInt64(s.utf8.count), limit: UInt64(L.maxStringBytes))
            }
        }
        func inRange(_ v: Int, _ range: ClosedRange<Int>, _ what: String) throws {
            guard range.contains(v) else { throw fail("\(what) is \(v), allowed \(range.lowerBound)...\(range.upperBound)") }
        }
        func product(_ factors: [Int], _ what: String) throws -> Int {
            var p = 1
            for f in factors {
                let (r, overflow) = p.multipliedReportingOverflow(by: f)
                guard !overflow else { throw fail("\(what) overflows") }
                p = r
            }
            return p
        }
        func count(_ values: [Float], _ expected: Int, _ what: String) throws {
            guard values.count == expected else { throw fail("\(what) has \(values.count) values, expected \(expected)") }
        }

        guard graph.nodes.count <= L.maxNodes else {
            throw WeightFileError.limitExceeded("node count", value: UInt64(graph.nodes.count), limit: UInt64(L.maxNodes))
        }
        try checkName(graph.inputName, "graph input name")
        try checkName(graph.outputName, "graph output name")
        try inRange(graph.inputShape.count, 1...L.maxRank, "graph input rank")
        for d in graph.inputShape { try inRange(d, 1...L.maxDimension, "graph input dimension") }

        let d = L.maxDimension, s = L.maxSpatial
        for node in graph.nodes {
            let n = "node '\(node.name)'"
            try checkName(node.name, "node name")
            try inRange(node.inputs.count, 0...L.maxTensorsPerNode, "\(n) input count")
            try inRange(node.outputs.count, 0...L.maxTensorsPerNode, "\(n) output count")
            for t in node.inputs + node.outputs { try checkName(t, "tensor name") }
            switch node.op {
            case .conv2d(let c):
                try inRange(c.inChannels, 1...d, "\(n) inChannels")
                try inRange(c.outChannels, 1...d, "\(n) outChannels")
                for (v, what) in [(c.kernelH, "kernelH"), (c.kernelW, "kernelW"), (c.strideH, "strideH"), (c.strideW, "strideW"),
                                  (c.dilationH, "dilationH"), (c.dilationW, "dilationW")] {
                    try inRange(v, 1...s, "\(n) \(what)")
                }
                for (v, what) in [(c.padTop, "padTop"), (c.padLeft, "padLeft"), (c.padBottom, "padBottom"), (c.padRight, "padRight")] {
                    try inRange(v, 0...s, "\(n) \(what)")
                }
                try inRange(c.groups, 1...d, "\(n) groups")
                guard c.inChannels % c.groups == 0, c.outChannels % c.groups == 0 else {
                    throw fail("\(n): channels \(c.inChannels)->\(c.outChannels) are not divisible by groups \(c.groups)")
                }
                try count(c.weights, try product([c.outChannels, c.inChannels / c.groups, c.kernelH, c.kernelW], "\(n) weight count"),
                          "\(n) weights")
                try count(c.bias, c.outChannels, "\(n) bias")
            case .fullyConnected(let f):
                try inRange(f.inFeatures, 1...d, "\(n) inFeatures")
                try inRange(f.outFeatures, 1...d, "\(n) outFeatures")
                try count(f.weights, try product([f.outFeatures, f.inFeatures], "\(n) weight count"), "\(n) weights")
                try count(f.bias, f.outFeatures, "\(n) bias")
            case .maxPool(let p), .averagePool(let p):
                for (v, what) in [(p.kernelH, "kernelH"), (p.kernelW, "kernelW"), (p.strideH, "strideH"), (p.strideW, "strideW")] {
                    try inRange(v, 1...s, "\(n) \(what)")
                }
                for (v, what) in [(p.padTop, "padTop"), (p.padLeft, "padLeft"), (p.padBottom, "padBottom"), (p.padRight, "padRight")] {
                    try inRange(v, 0...s, "\(n) \(what)")
                }
            case .lrn(let l):
                try inRange(l.size, 1...s, "\(n) size")
                guard l.alpha.isFinite, l.beta.isFinite, l.bias.isFinite else { throw fail("\(n): LRN parameters must be finite") }
            case .prelu(let slopes):
                try inRange(slopes.count, 1...d, "\(n) slope count")
            case .affine(let scale, let shift):
                try inRange(scale.count, 1...d, "\(n) scale count")
                try count(shift, scale.count, "\(n) shift")
            case .pad(let top, let left, let bottom, let right, let channelsAfter, let value):
                for (v, what) in [(top, "top"), (left, "left"), (bottom, "bottom"), (right, "right")] {
                    try inRange(v, 0...s, "\(n) pad \(what)")
                }
                try inRange(channelsAfter, 0...d, "\(n) channelsAfter")
                guard value.isFinite else { throw fail("\(n): pad value must be finite") }
            case .reshape(let shape):
                try inRange(shape.count, 1...L.maxRank, "\(n) reshape rank")
                for v in shape { try inRange(v, -1...d, "\(n) reshape dimension") }
                guard shape.filter({ $0 == -1 }).count <= 1 else { throw fail("\(n): reshape has more than one -1") }
            case .transpose(let perm):
                try inRange(perm.count, 1...L.maxRank, "\(n) transpose rank")
                guard perm.sorted() == Array(0..<perm.count) else { throw fail("\(n): \(perm) is not a permutation") }
            case .dropout(let p):
                guard p.isFinite, p >= 0, p < 1 else { throw fail("\(n): dropout p is \(p), allowed 0..<1") }
            case .globalAveragePool, .relu, .add, .flatten, .softmax:
                break
            }
        }
    }
}
