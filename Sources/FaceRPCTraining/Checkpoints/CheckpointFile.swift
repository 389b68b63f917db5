import FaceRPCCore
import Foundation

/// What a checkpoint records besides its tensors: enough to resume a job at
/// the step it was written, with the same batch sequence.
public struct CheckpointHeader: Codable, Sendable, Equatable {
    public var jobID: String
    /// Optimizer steps taken when it was written.
    public var step: Int
    /// 0-based epoch of the next batch.
    public var epoch: Int
    /// Global index of the next training batch (the data pipeline's `startBatch`).
    public var nextBatch: Int
    public var lossAverage: Float
    public var trainAccuracyAverage: Float
    public var valAccuracy: Float
    /// Seconds of training so far, so that examples/s and the ETA survive a restart.
    public var trainingSeconds: Double
    /// Unix time of writing.
    public var createdAt: Double

    public init(jobID: String, step: Int, epoch: Int, nextBatch: Int, lossAverage: Float, trainAccuracyAverage: Float,
                valAccuracy: Float, trainingSeconds: Double, createdAt: Double = Date().timeIntervalSince1970) {
        self.jobID = jobID; self.step = step; self.epoch = epoch; self.nextBatch = nextBatch
        self.lossAverage = lossAverage; self.trainAccuracyAverage = trainAccuracyAverage; self.valAccuracy = valAccuracy
        self.trainingSeconds = trainingSeconds; self.createdAt = createdAt
    }
}

/// A training checkpoint: header plus the trainer's full state (parameters,
/// optimizer slots, RNG state), as ``LeviHassnerTrainer/state()`` gives it.
public struct Checkpoint: Sendable, Equatable {
    public var header: CheckpointHeader
    public var tensors: [NamedTensor]

    public init(header: CheckpointHeader, tensors: [NamedTensor]) {
        self.header = header; self.tensors = tensors
    }
}

/// Why a checkpoint could not be written or read.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file system refused (full disk: `code == ENOSPC`).
    case io(FileIOError)
    /// Torn, truncated, tampered with, or not a checkpoint at all.
    case corrupt(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let error): "checkpoint I/O failed: \(error)"
        case .corrupt(let path, let reason): "checkpoint \(path) is corrupt: \(reason)"
        }
    }
}

/// The `.ckpt` format (all integers little-endian):
///
/// ```
/// "FRPCCKPT"  u32 version (1)  u32 header length  header (JSON, CheckpointHeader)
/// u32 tensor count, then per tensor: u16 name length, name (UTF-8), u8 rank, u32 × rank dims, f32 × Π dims
/// SHA-256 of every byte before it (32 bytes)
/// ```
///
/// The trailing digest makes a torn write (a crash between write and rename
/// cannot produce one, but a copied or damaged file can) and any bit flip
/// detectable; the reader checks every length against ``Limits`` and the file
/// size before allocating, so no input makes it allocate more than the file.
public enum CheckpointFile {
    public enum Limits {
        /// LH with Adam slots is about 105 MB; this leaves room for larger nets.
        public static let maxFileBytes = 1 << 31
        public static let maxHeaderBytes = 64 << 10
        public static let maxTensors = 4096
        public static let maxNameBytes = 256
        public static let maxRank = 8
    }

    static let magic: [UInt8] = Array("FRPCCKPT".utf8)
    static let version: UInt32 = 1
    static let digestBytes = 32

    /// The file's bytes.
    public static func encode(_ checkpoint: Checkpoint) throws -> [UInt8] {
        let header = try JSONEncoder().encode(checkpoint.header)
        var out: [UInt8] = []
        out.reserveCapacity(64 + header.count + checkpoint.tensors.reduce(0) { $0 + 64 + $1.values.count * 4 })
        out += magic
        append(&out, version)
        append(&out, UInt32(header.count))
        out += header
        append(&out, UInt32(checkpoint.tensors.count))
        for tensor in checkpoint.tensors {
            let name = Array(tensor.name.utf8)
            precondition(name.count <= Limits.maxNameBytes && tensor.shape.count <= Limits.maxRank, "tensor \(tensor.name) exceeds checkpoint limits")
            precondition(tensor.shape.reduce(1, *) == tensor.values.count, "tensor \(tensor.name): shape and values disagree")
            append(&out, UInt16(name.count))
            out += name
            out.append(UInt8(tensor.shape.count))
            for d in tensor.shape { append(&out, UInt32(d)) }
            tensor.values.withUnsafeBytes { out += $0 }  // the platforms we build for are little-endian
        }
        out += SHA256.hash(out)
        return out
    }

    /// Parses and verifies a whole file's bytes. `path` is only for errors.
    /// - Throws: ``CheckpointError/corrupt(path:reason:)``.
    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> Checkpoint {
        func corrupt(_ reason: String) -> CheckpointError { .corrupt(path: path, reason: reason) }
        guard bytes.count >= magic.count + 12 + digestBytes else { throw corrupt("\(bytes.count) bytes is too short") }
        guard bytes.count <= Limits.maxFileBytes else { throw corrupt("\(bytes.count) bytes is over the limit of \(Limits.maxFileBytes)") }
        guard bytes.prefix(magic.count).elementsEqual(magic) else { throw corrupt("not a facerpc checkpoint (bad magic)") }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - digestBytes)])
        guard SHA256.hash(body).elementsEqual(bytes[(bytes.count - digestBytes)...]) else {
            throw corrupt("checksum mismatch (torn or damaged file)")
        }
        var reader = Reader(bytes: body, offset: magic.count)
        guard let version = reader.u32(), version == Self.version else { throw corrupt("unknown format version") }
        guard let headerLength = reader.u32().map(Int.init), headerLength <= Limits.maxHeaderBytes,
              let headerBytes = reader.bytes(headerLength) else { throw corrupt("bad header length") }
        let header: CheckpointHeader
        do {
            header = try JSONDecoder().decode(CheckpointHeader.self, from: Data(headerBytes))
        } catch {
            throw corrupt("unreadable header")
        }
        guard header.step >= 0, header.epoch >= 0, header.nextBatch >= 0 else { throw corrupt("negative counters in header") }
        guard let count = reader.u32().map(Int.init), count <= Limits.maxTensors else { throw corrupt("bad tensor count") }
        var tensors: [NamedTensor] = []
        tensors.reserveCapacity(count)
        for index in 0..<count {
            guard let nameLength = reader.u16().map(Int.init), nameLength <= Limits.maxNameBytes,
                  let nameBytes = reader.bytes(nameLength), let name = String(validating: nameBytes, as: UTF8.self)
            else { throw corrupt("tensor \(index): bad name") }
            guard let rank = reader.u8().map(Int.init), rank <= Limits.maxRank else { throw corrupt("tensor \(name): bad rank") }
            var shape: [Int] = []
            var elements = 1
            for _ in 0..<rank {
                guard let d = reader.u32().map(Int.init) else { throw corrupt("tensor \(name): truncated shape") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                // Checked against the bytes left before anything is allocated.
                guard !overflow, product <= reader.remaining / 4 else { throw corrupt("tensor \(name): shape larger than the file") }
                elements = product
                shape.append(d)
            }
            guard let raw = reader.rawBytes(elements * 4) else { throw corrupt("tensor \(name): truncated data") }
            let values = [Float](unsafeUninitializedCapacity: elements) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
                initialized = elements
            }
            tensors.append(NamedTensor(name: name, shape: shape, values: values))
        }
        guard reader.remaining == 0 else { throw corrupt("\(reader.remaining) unexpected bytes after the tensors") }
        return Checkpoint(header: header, tensors: tensors)
    }

    /// Writes atomically (temporary file, fsync, rename, directory fsync): after
    /// a crash at any point the path holds the old file or the new one.
    /// - Throws: ``CheckpointError/io(_:)``; on a full disk nothing at `path` changes.
    public static func write(_ checkpoint: Checkpoint, to path: String) throws(CheckpointError) {
        let bytes: [UInt8]
        do { bytes = try encode(checkpoint) } catch {
            throw .corrupt(path: path, reason: "header cannot be encoded: \(error)")
        }
        do {
            try AtomicFile.write(bytes, to: path)
        } catch let error as FileIOError {
            throw .io(error)
        } catch {
            throw .io(FileIOError(path: path, reason: "\(error)", code: 0))
        }
    }

    /// Reads and verifies the file at `path`, refusing files over the limit before reading.
    public static func read(path: String) throws(CheckpointError) -> Checkpoint {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(FileIOError(path: path, reason: "cannot stat: \(AtomicFile.errnoString())")) }
        guard Int(info.st_size) <= Limits.maxFileBytes else {
            throw .corrupt(path: path, reason: "\(info.st_size) bytes is over the limit of \(Limits.maxFileBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(FileIOError(path: path, reason: "cannot read"))
        }
        do {
            return try data.withUnsafeBytes { try decode($0, path: path) }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .corrupt(path: path, reason: "\(error)")
        }
    }

    private static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }
}

/// A bounds-checked cursor: every read returns nil instead of running past the end.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    var remaining: Int { bytes.count - offset }

    mutating func rawBytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    mutating func bytes(_ count: Int) -> [UInt8]? { rawBytes(count).map(Array.init) }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) -> T? {
        guard let raw = rawBytes(MemoryLayout<T>.size) else { return nil }
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    mutating func u8() -> UInt8? { integer(UInt8.self) }
    mutating func u16() -> UInt16? { integer(UInt16.self) }
    mutating func u32() -> UInt32? { integer(UInt32.self) }
}
