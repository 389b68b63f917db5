import FaceRPCEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns an ONNX model into an engine ``Graph``.
///
/// The importer reads the ONNX subset in Protos/onnx/onnx-subset.proto,
/// lowers each node to a ``LayerOp`` (see docs/ONNX.md for the operators and
/// attributes it accepts), then folds per-channel affines and ReLUs into the
/// convolution or fully-connected layer next to them. Anything it cannot
/// represent exactly is refused with an ``ONNXImportError`` naming the
/// operator and node; it never returns a graph that computes something else.
///
/// The model's input must be one float32 tensor whose first dimension is the
/// batch (symbolic, e.g. `N`, or any fixed value): ``Graph/inputShape`` is the
/// per-sample shape after it, and the graph runs for any batch size.
public enum ONNXImporter {
    /// Imports a model from its serialised bytes.
    ///
    /// - Parameter bytes: a whole `.onnx` file, at most ``ONNXImportLimits/maxFileBytes``.
    /// - Throws: ``ONNXImportError`` when the bytes are not a model the importer supports.
    public static func importGraph(bytes: [UInt8]) throws -> Graph {
        let model = try ONNXDecoder.decode(bytes)
        var lowering = try ONNXLowering(model: model)
        try lowering.lowerAll()
        return try lowering.finish()
    }

    /// Reads and imports the `.onnx` file at `path`.
    ///
    /// Files larger than ``ONNXImportLimits/maxFileBytes`` are refused before
    /// they are read. Weights must be inside the file (no external data).
    /// - Throws: ``ONNXImportError`` when the file cannot be read or imported.
    public static func importGraph(contentsOf path: String) throws -> Graph {
        try importGraph(bytes: readFile(path, limit: ONNXImportLimits.maxFileBytes))
    }

    /// Reads a whole regular file, refusing one larger than `limit` bytes.
    static func readFile(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ONNXImportError(message: "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ONNXImportError(message: "cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ONNXImportError(message: "'\(path)' is not a regular file")
        }
        guard info.st_size <= limit else {
            throw ONNXImportError(message: "'\(path)' is \(info.st_size) bytes, over the limit of \(limit)")
        }
        let size = Int(info.st_size)
        // One byte of slack tells a file that grew since fstat from one that did not.
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ONNXImportError(message: "cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        guard filled <= size else {
            throw ONNXImportError(message: "'\(path)' grew while it was read")
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }
}
