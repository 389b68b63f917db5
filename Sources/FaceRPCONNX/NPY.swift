#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a `.npy` file could not be read or written.
public struct NPYError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "NPY: \(message)" }
}

/// Reads and writes NumPy `.npy` files holding one float32 array, the format
/// the parity tests exchange with onnxruntime (scripts/onnx_reference.py).
///
/// Only little-endian float32 (`'<f4'`) in C order is supported; versions 1.0,
/// 2.0 and 3.0 of the format are read, 1.0 is written. Headers longer than
/// ``maxHeaderBytes`` and arrays of more than ``maxElements`` elements are
/// refused before any allocation.
public enum NPY {
    /// Longest header accepted, in bytes.
    public static let maxHeaderBytes = 65_536
    /// Most elements in one array (2^28, 1 GiB of float32).
    public static let maxElements = ONNXImportLimits.maxTensorElements

    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Reads a float32 array; `shape` is in C order, `data` has `shape.reduce(1, *)` values.
    public static func read(path: String) throws -> (shape: [Int], data: [Float]) {
        let bytes: [UInt8]
        do {
            bytes = try ONNXImporter.readFile(path, limit: 10 + maxHeaderBytes + 4 * maxElements)
        } catch let error as ONNXImportError {
            throw NPYError(message: error.message)
        }
        return try decode(bytes)
    }

    /// Parses the bytes of a `.npy` file.
    public static func decode(_ bytes: [UInt8]) throws -> (shape: [Int], data: [Float]) {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NPYError(message: "not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError(message: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw NPYError(message: "format version \(major) is not supported")
        }
        guard headerLength <= maxHeaderBytes, headerStart + headerLength <= bytes.count else {
            throw NPYError(message: "header of \(headerLength) bytes is truncated or over the limit of \(maxHeaderBytes)")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: header), descr == "'<f4'" else {
            throw NPYError(message: "only little-endian float32 ('<f4') arrays are supported; header: \(header)")
        }
        guard value(of: "fortran_order", in: header) == "False" else {
            throw NPYError(message: "only C-order arrays are supported")
        }
        guard let shapeText = value(of: "shape", in: header), shapeText.hasPrefix("("), shapeText.hasSuffix(")") else {
            throw NPYError(message: "the header has no shape")
        }
        var shape: [Int] = []
        var count = 1
        for part in shapeText.dropFirst().dropLast().split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: " ")
            if trimmed.isEmpty { continue }
            guard let d = Int(trimmed), d >= 0, d <= maxElements else {
                throw NPYError(message: "bad dimension '\(trimmed)' in shape \(shapeText)")
            }
            shape.append(d)
            count *= d
            guard count <= maxElements else { throw NPYError(message: "shape \(shapeText) has more than \(maxElements) elements") }
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == 4 * count else {
            throw NPYError(message: "shape \(shape) needs \(4 * count) data bytes, the file has \(bytes.count - dataStart)")
        }
        let data = bytes.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + 4 * $0, as: UInt32.self))) }
        }
        return (shape, data)
    }

    /// The bytes of a version 1.0 `.npy` file for a C-order float32 array.
    public static func encode(shape: [Int], data: [Float]) throws -> [UInt8] {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == data.count, data.count <= maxElements else {
            throw NPYError(message: "shape \(shape) does not hold \(data.count) values")
        }
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // The data starts on a 64-byte boundary, and the header ends with a newline.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes = magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + 4 * data.count)
        for v in data {
            let bits = v.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes += $0 }
        }
        return bytes
    }

    /// Writes a C-order float32 array as a version 1.0 `.npy` file.
    public static func write(path: String, shape: [Int], data: [Float]) throws {
        let bytes = try encode(shape: shape, data: data)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw NPYError(message: "cannot create '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw NPYError(message: "cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }

    /// The text of `'key': value` in a header dict, up to the next top-level comma.
    private static func value(of key: String, in header: String) -> String? {
        let needle = Array("'\(key)':")
        let chars = Array(header)
        guard chars.count >= needle.count,
              let start = (0...(chars.count - needle.count)).first(where: { Array(chars[$0..<($0 + needle.count)]) == needle })
        else { return nil }
        var depth = 0
        var result = ""
        for ch in chars[(start + needle.count)...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if (ch == "," && depth == 0) || ch == "}" { break }
            result.append(ch)
        }
        return result.trimmingCharacters(in: " ")
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

private extension Substring {
    func trimmingCharacters(in character: Character) -> Substring {
        var s = self
        while s.first == character { s = s.dropFirst() }
        while s.last == character { s = s.dropLast() }
        return s
    }
}

private extension String {
    func trimmingCharacters(in character: Character) -> String {
        String(Substring(self).trimmingCharacters(in: character))
    }
}
