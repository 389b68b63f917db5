/// An error from planning or running a network: a bad graph, a shape
/// mismatch (the message names the node), or a bad input size.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Limits that keep untrusted graphs and requests from allocating without bound.
public enum EngineLimits {
    /// Largest per-sample tensor, in elements (1 GiB of floats).
    public static let maxTensorElements = 1 << 28
    /// Largest kernel size, stride, padding, dilation, group or channel count in an op,
    /// so shape arithmetic can never overflow.
    public static let maxDimension = 1 << 20
    /// Largest tensor rank.
    public static let maxRank = 8
    /// Largest batch one `run` accepts.
    public static let maxBatch = 4096
    /// Largest total workspace one `run` may allocate, in floats (8 GiB).
    public static let maxWorkspaceElements = 1 << 31
}
