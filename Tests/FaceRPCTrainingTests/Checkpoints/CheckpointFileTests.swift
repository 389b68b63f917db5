import FaceRPCCore
import FaceRPCKernels
import Foundation
import Testing
@testable import FaceRPCTraining

@Suite("Checkpoint files")
struct CheckpointFileTests {
    static func sample(step: Int = 1000, seed: UInt64 = 7) -> Checkpoint {
        var rng = SplitMix64(seed: seed)
        let tensors = [
            NamedTensor(name: "conv1.weight", shape: [4, 3, 3, 3], values: (0..<108).map { _ in rng.nextNormal(standardDeviation: 1) }),
            NamedTensor(name: "conv1.bias", shape: [4], values: [0, -1, .infinity, .leastNonzeroMagnitude]),
            NamedTensor(name: "scalar", shape: [], values: [42]),
            NamedTensor(name: "empty", shape: [0, 5], values: []),
            NamedTensor(name: "ünïcode.momentum", shape: [2, 1], values: [1, 2]),
        ]
        let header = CheckpointHeader(jobID: "job-1", step: step, epoch: 3, nextBatch: 1234, lossAverage: 1.5,
                                      trainAccuracyAverage: 0.25, valAccuracy: 0.5, trainingSeconds: 99.5, createdAt: 1_700_000_000)
        return Checkpoint(header: header, tensors: tensors)
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "facerpc-ckpt-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("encode then decode gives back every header field and tensor bit for bit")
    func roundTrip() throws {
        let checkpoint = Self.sample()
        let bytes = try CheckpointFile.encode(checkpoint)
        let decoded = try bytes.withUnsafeBytes { try CheckpointFile.decode($0, path: "mem") }
        #expect(decoded.header == checkpoint.header)
        #expect(decoded.tensors.count == checkpoint.tensors.count)
        for (a, b) in zip(decoded.tensors, checkpoint.tensors) {
            #expect(a.name == b.name && a.shape == b.shape)
            #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern), "tensor \(a.name)")
        }
    }

    @Test("every truncation is refused as corrupt, never a crash or a partial checkpoint")
    func truncations() throws {
        let bytes = try CheckpointFile.encode(Self.sample())
        for length in Array(0..<80) + [bytes.count / 2, bytes.count - 33, bytes.count - 1] {
            let cut = Array(bytes.prefix(length))
            #expect(throws: CheckpointError.self, "length \(length)") {
                try cut.withUnsafeBytes { try CheckpointFile.decode($0, path: "cut") }
            }
        }
    }

    @Test("a flipped bit anywhere fails the checksum")
    func bitFlips() throws {
        let bytes = try CheckpointFile.encode(Self.sample())
        var rng = SplitMix64(seed: 3)
        for _ in 0..<64 {
            var damaged = bytes
            let index = Int(rng.next() % UInt64(bytes.count))
            damaged[index] ^= UInt8(1 << (rng.next() % 8))
            do {
                _ = try damaged.withUnsafeBytes { try CheckpointFile.decode($0, path: "flip") }
                Issue.record("a flip at byte \(index) went unnoticed")
            } catch let error as CheckpointError {
                guard case .corrupt = error else { Issue.record("unexpected \(error)"); continue }
            }
        }
    }

    @Test("a well-checksummed file with lying lengths is refused before allocating")
    func lyingLengths() throws {
        // Rebuild a file whose tensor claims 2^31 x 2^31 elements, with a valid digest.
        var body = Array("FRPCCKPT".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { body += $0 } }
        let header = try JSONEncoder().encode(Self.sample().header)
        u32(1); u32(UInt32(header.count)); body += header
        u32(1)
        withUnsafeBytes(of: UInt16(1).littleEndian) { body += $0 }
        body += Array("w".utf8)
        body.append(2); u32(1 << 31); u32(1 << 31)
        body += SHA256.hash(body)
        let error = #expect(throws: CheckpointError.self) { try body.withUnsafeBytes { try CheckpointFile.decode($0, path: "lie") } }
        #expect("\(error!)".contains("larger than the file"))
    }

    @Test("the store keeps the newest K, and latestValid skips a torn newest file")
    func storeKeepsAndSkips() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = CheckpointStore(directory: directory + "/checkpoints", keep: 2)
        for step in [5, 10, 15] { try store.save(Self.sample(step: step)) }
        #expect(store.steps().map(\.step) == [10, 15])
        #expect(store.latestValid()?.checkpoint.header.step == 15)

        // Tear the newest one as a crash mid-copy would: half its bytes.
        let newest = store.steps().last!.path
        let data = try Data(contentsOf: URL(fileURLWithPath: newest))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: newest))
        let (latest, skipped) = store.latestValidReportingSkipped()
        #expect(latest?.checkpoint.header.step == 10)
        #expect(skipped.count == 1)

        // Nothing valid at all: nil, not a crash.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: store.steps().first!.path))
        #expect(store.latestValid() == nil)
    }

    @Test("file names sort by step")
    func names() {
        #expect(CheckpointStore.fileName(step: 1000) == "step-000001000.ckpt")
        #expect(CheckpointStore.fileName(step: 0) == "step-000000000.ckpt")
        #expect(CheckpointStore.fileName(step: 12_345_678_901) == "step-12345678901.ckpt")
    }
}
