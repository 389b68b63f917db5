import FaceRPCEngine
import Foundation
import Testing
@testable import FaceRPCRegistry

@Suite struct WeightFileTests {
    static func decode(_ bytes: [UInt8]) throws -> Graph {
        try bytes.withUnsafeBytes { try WeightFile.decode($0) }
    }

    static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func putU32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    /// Recomputes both checksums, as a hostile writer would, so that the
    /// checks behind them get exercised.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        putU32(&out, 56, CRC32.checksum(Array(out[64...])))
        putU32(&out, 60, CRC32.checksum(Array(out[0..<60])))
        return out
    }

    @Test func roundTripOfEveryOp() throws {
        let graph = graphWithEveryOp()
        let bytes = try WeightFile.encode(graph)
        #expect(try Self.decode(bytes) == graph)
    }

    @Test func roundTripThroughAFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/model.frpc"
        let graph = graphWithEveryOp()
        try WeightFile.write(graph, to: path)
        #expect(try WeightFile.read(path: path) == graph)
        #expect(try WeightFile().readGraph(path: path) == graph)
        // Overwriting is by rename: the new content replaces the old, no temporary files remain.
        let other = markedGraph(marker: 3)
        try WeightFile.write(other, to: path)
        #expect(try WeightFile.read(path: path) == other)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.frpc"])
    }

    @Test func layoutIsAlignedAndSelfDescribing() throws {
        let bytes = try WeightFile.encode(graphWithEveryOp())
        #expect(Array(bytes[0..<8]) == Array("FRPCWGT".utf8) + [0])
        #expect(bytes[8] == 1 && bytes[9] == 0 && bytes[10] == 0 && bytes[11] == 0)
        let blobOffset = Self.u64(bytes, 32), blobLength = Self.u64(bytes, 40), fileLength = Self.u64(bytes, 48)
        #expect(Self.u64(bytes, 16) == 64)
        #expect(blobOffset % 64 == 0)
        #expect(blobOffset + blobLength == fileLength)
        #expect(fileLength == UInt64(bytes.count))
        // The first blob is conv1's weights, stored raw at the start of the blob section.
        let conv1 = graphWithEveryOp().nodes[0]
        guard case .conv2d(let spec) = conv1.op else { Issue.record("node 0 is not a conv"); return }
        let stored = (0..<spec.weights.count).map { i in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[Int(blobOffset) + i * 4 + $1]) << (8 * UInt32($1)) })
        }
        #expect(stored == spec.weights)
    }

    @Test func everyTruncationThrows() throws {
        let bytes = try WeightFile.encode(graphWithEveryOp())
        for length in 0..<bytes.count {
            #expect(throws: WeightFileError.self, "truncated to \(length)") { try Self.decode(Array(bytes[..<length])) }
        }
        #expect(throws: WeightFileError.trailingBytes(expectedBytes: UInt64(bytes.count), actualBytes: UInt64(bytes.count + 1))) {
            try Self.decode(bytes + [0])
        }
    }

    @Test func truncationIsReportedAsSuch() throws {
        let bytes = try WeightFile.encode(graphWithEveryOp())
        #expect(throws: WeightFileError.truncated(expectedBytes: 64, actualBytes: 10)) { try Self.decode(Array(bytes[..<10])) }
        #expect(throws: WeightFileError.truncated(expectedBytes: UInt64(bytes.count), actualBytes: UInt64(bytes.count - 1))) {
            try Self.decode(Array(bytes.dropLast()))
        }
    }

    @Test func everyBitFlipThrows() throws {
        var bytes = try WeightFile.encode(markedGraph(marker: 1))
        for offset in 0..<bytes.count {
            for bit in [0, 3, 7] {
                bytes[offset] ^= 1 << bit
                #expect(throws: WeightFileError.self, "bit \(bit) of byte \(offset)") { try Self.decode(bytes) }
                bytes[offset] ^= 1 << bit
            }
        }
        #expect(try Self.decode(bytes) == markedGraph(marker: 1))
    }

    @Test func payloadCorruptionIsACheckumError() throws {
        var bytes = try WeightFile.encode(markedGraph(marker: 1))
        bytes[bytes.count - 70] ^= 0x10
        do {
            _ = try Self.decode(bytes)
            Issue.record("decoded a corrupt payload")
        } catch WeightFileError.payloadChecksumMismatch {
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func wrongMagicAndVersion() throws {
        let bytes = try WeightFile.encode(markedGraph(marker: 1))
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "G")
        #expect(throws: WeightFileError.badMagic) { try Self.decode(wrongMagic) }
        #expect(throws: WeightFileError.badMagic) { try Self.decode(Array("PK\u{3}\u{4}".utf8) + [UInt8](repeating: 0, count: 200)) }

        var future = bytes
        Self.putU32(&future, 8, 2)
        #expect(throws: WeightFileError.unsupportedVersion(found: 2, supported: 1)) { try Self.decode(Self.resealed(future)) }
        #expect(WeightFileError.unsupportedVersion(found: 2, supported: 1).description.contains("version 2"))
    }

    @Test func hostileCountsAreRefusedBeforeAllocating() throws {
        let bytes = try WeightFile.encode(markedGraph(marker: 1))
        // The node count is the first field of the op table (offset 64).
        var manyNodes = bytes
        Self.putU32(&manyNodes, 64, 0x7fff_ffff)
        #expect(throws: WeightFileError.malformedOpTable(offset: 64, reason: "node count 2147483647 is over the limit of 65536")) {
            try Self.decode(Self.resealed(manyNodes))
        }
        // A blob count far beyond the file: find fc's weight reference by its
        // known count (48 * 2 = 96 floats) and inflate it.
        var hugeBlob = bytes
        let table = Array(bytes[64..<Int(Self.u64(bytes, 32))])
        let needle: [UInt8] = [96, 0, 0, 0, 0, 0, 0, 0]
        let at = try #require((0...(table.count - 8)).first { Array(table[$0..<($0 + 8)]) == needle })
        for i in 0..<8 { hugeBlob[64 + at + i] = 0xff }
        do {
            _ = try Self.decode(Self.resealed(hugeBlob))
            Issue.record("decoded an oversized blob reference")
        } catch WeightFileError.malformedOpTable(_, let reason) {
            #expect(reason.contains("fc weights"))
        }
        // Blob section pointing past the end of the file.
        var badSection = bytes
        for i in 0..<8 { badSection[40 + i] = 0 }
        badSection[41] = 0x10
        #expect(throws: WeightFileError.self) { try Self.decode(Self.resealed(badSection)) }
    }

    @Test func unknownOpcodeIsNamed() throws {
        // A single-node graph whose opcode byte is the last byte of the op table.
        let graph = Graph(inputName: "x", inputShape: [4], nodes: [
            GraphNode(name: "r", op: .relu, inputs: ["x"], outputs: ["y"]),
        ], outputName: "y")
        var bytes = try WeightFile.encode(graph)
        let tableEnd = 64 + Int(Self.u64(bytes, 24))
        #expect(bytes[tableEnd - 1] == 7)
        bytes[tableEnd - 1] = 200
        do {
            _ = try Self.decode(Self.resealed(bytes))
            Issue.record("decoded an unknown opcode")
        } catch WeightFileError.malformedOpTable(let offset, let reason) {
            #expect(offset == tableEnd - 1)
            #expect(reason.contains("unknown opcode 200"))
        }
    }

    @Test func invalidUTF8NameIsRefused() throws {
        let graph = Graph(inputName: "x", inputShape: [4], nodes: [
            GraphNode(name: "r", op: .relu, inputs: ["x"], outputs: ["y"]),
        ], outputName: "y")
        var bytes = try WeightFile.encode(graph)
        // u32 node count, str "x", str "y", shape (u8 + i32), then the node name's u16 length.
        let nameAt = 64 + 4 + 3 + 3 + 5 + 2
        #expect(bytes[nameAt] == UInt8(ascii: "r"))
        bytes[nameAt] = 0xff
        #expect(throws: WeightFileError.malformedOpTable(offset: nameAt, reason: "node name is not valid UTF-8")) {
            try Self.decode(Self.resealed(bytes))
        }
    }

    @Test func invalidGraphsAreNotWritten() throws {
        var graph = markedGraph(marker: 1)
        graph.nodes[1].op = .fullyConnected(FullyConnectedSpec(inFeatures: 48, outFeatures: 2, weights: [1, 2, 3], bias: [0, 0]))
        #expect(throws: WeightFileError.self) { try WeightFile.encode(graph) }

        var badConv = graphWithEveryOp()
        if case .conv2d(var spec) = badConv.nodes[0].op {
            spec.groups = 3
            badConv.nodes[0].op = .conv2d(spec)
        }
        #expect(throws: WeightFileError.self) { try WeightFile.encode(badConv) }

        var badPerm = graphWithEveryOp()
        badPerm.nodes[9].op = .transpose(perm: [0, 0, 1])
        #expect(throws: WeightFileError.self) { try WeightFile.encode(badPerm) }

        let dir = try TemporaryDirectory()
        #expect(throws: WeightFileError.self) { try WeightFile.write(graph, to: dir.path + "/x.frpc") }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/x.frpc"))
    }

    @Test func missingFileIsAnIOError() {
        #expect(throws: WeightFileError.self) { try WeightFile.read(path: "/nonexistent/facerpc/model.frpc") }
    }
}
