/// Why an ONNX file could not become a ``Graph``.
///
/// The importer never guesses: a file it cannot parse, a value outside
/// ``ONNXImportLimits``, or an operator, attribute or tensor type it does not
/// support ends the import with this error. When a node is at fault the
/// message names its operator and node name, e.g.
/// `Conv node 'layer_52_conv': auto_pad 'SAME_UPPER' is not supported`.
public struct ONNXImportError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { "ONNX import failed: \(message)" }
}

/// The bounds the importer checks untrusted sizes against before it allocates.
///
/// Every dimension, element count and node count read from a file is compared
/// with these first; a file beyond them is refused with ``ONNXImportError``.
public enum ONNXImportLimits {
    /// Largest `.onnx` file ``ONNXImporter/importGraph(contentsOf:)`` reads, in bytes (1 GiB).
    public static let maxFileBytes = 1 << 30
    /// Most nodes in a graph.
    public static let maxNodes = 10_000
    /// Most elements in one tensor: an initializer, or one sample of an activation (2^28).
    public static let maxTensorElements = 1 << 28
    /// Highest tensor rank, batch axis included.
    public static let maxRank = 8
    /// Largest integer attribute accepted as a kernel size, stride, dilation,
    /// padding or group count; keeps shape arithmetic far from overflow.
    public static let maxAttributeValue = 1 << 20
    /// Oldest and newest default-domain opset versions whose operator
    /// semantics the importer implements.
    public static let opsetVersions: ClosedRange<Int64> = 7...24
}
