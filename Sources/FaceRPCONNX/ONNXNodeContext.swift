/// One ONNX node being lowered: its label for error messages and typed,
/// checked access to its attributes.
struct ONNXNodeContext {
    let node: ONNXNode
    /// The node's name in the engine graph: the ONNX name, or `OpType_index` when it has none.
    let graphName: String

    init(node: ONNXNode, index: Int) {
        self.node = node
        self.graphName = node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
    }

    var label: String { node.name.isEmpty ? "\(node.opType) node #\(graphName)" : "\(node.opType) node '\(node.name)'" }

    func error(_ message: String) -> ONNXImportError {
        ONNXImportError(message: "\(label): \(message)")
    }

    /// Refuses any attribute the lowering of this operator does not read:
    /// an attribute that is silently ignored could change the result.
    func allowAttributes(_ allowed: Set<String>) throws {
        for name in node.attributes.keys.sorted() where !allowed.contains(name) {
            throw error("attribute '\(name)' is not supported")
        }
    }

    private func attribute(_ name: String) throws -> ONNXAttribute? {
        guard let a = node.attributes[name] else { return nil }
        if case .unsupported(let what) = a {
            throw error("attribute '\(name)' is \(what), which is not supported")
        }
        return a
    }

    func int(_ name: String) throws -> Int64? {
        guard let a = try attribute(name) else { return nil }
        guard case .int(let v) = a else { throw error("attribute '\(name)' must be an integer") }
        return v
    }

    func int(_ name: String, default value: Int64) throws -> Int64 {
        try int(name) ?? value
    }

    /// An integer attribute that must lie in `range`.
    func int(_ name: String, default value: Int64, in range: ClosedRange<Int64>) throws -> Int {
        let v = try int(name, default: value)
        guard range.contains(v) else {
            throw error("attribute '\(name)' = \(v) is not supported (expected \(range.lowerBound)...\(range.upperBound))")
        }
        return Int(v)
    }

    func float(_ name: String, default value: Float) throws -> Float {
        guard let a = try attribute(name) else { return value }
        switch a {
        case .float(let v): return v
        default: throw error("attribute '\(name)' must be a float")
        }
    }

    func string(_ name: String, default value: String) throws -> String {
        guard let a = try attribute(name) else { return value }
        guard case .string(let bytes) = a else { throw error("attribute '\(name)' must be a string") }
        return String(decoding: bytes, as: UTF8.self)
    }

    func ints(_ name: String) throws -> [Int64]? {
        guard let a = try attribute(name) else { return nil }
        guard case .ints(let v) = a else { throw error("attribute '\(name)' must be a list of integers") }
        return v
    }

    /// A list of exactly `count` integers in `range`, or `defaultValue` when absent.
    func ints(_ name: String, count: Int, in range: ClosedRange<Int64>, default defaultValue: [Int]?) throws -> [Int]? {
        guard let v = try ints(name) else { return defaultValue }
        guard v.count == count else {
            throw error("attribute '\(name)' has \(v.count) values, expected \(count) (only 2-D spatial operators are supported)")
        }
        for x in v where !range.contains(x) {
            throw error("attribute '\(name)' = \(v) is not supported (each value must be in \(range.lowerBound)...\(range.upperBound))")
        }
        return v.map { Int($0) }
    }
}
