/// Swift value types for the subset of the ONNX schema the importer reads
/// (see Protos/onnx/onnx-subset.proto). ``ONNXDecoder`` fills them from
/// protobuf-c; nothing here points into C memory.

/// The element type of an ONNX tensor (`TensorProto.DataType`).
struct ONNXDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    var rawValue: Int32
    init(rawValue: Int32) { self.rawValue = rawValue }

    static let float = ONNXDataType(rawValue: 1)
    static let int32 = ONNXDataType(rawValue: 6)
    static let int64 = ONNXDataType(rawValue: 7)
    static let bool = ONNXDataType(rawValue: 9)

    var description: String {
        switch rawValue {
        case 0: "UNDEFINED"
        case 1: "FLOAT"
        case 2: "UINT8"
        case 3: "INT8"
        case 4: "UINT16"
        case 5: "INT16"
        case 6: "INT32"
        case 7: "INT64"
        case 8: "STRING"
        case 9: "BOOL"
        case 10: "FLOAT16"
        case 11: "DOUBLE"
        case 12: "UINT32"
        case 13: "UINT64"
        case 16: "BFLOAT16"
        default: "data type \(rawValue)"
        }
    }
}

/// A constant tensor (an initializer, a `Constant` node or a tensor attribute).
struct ONNXTensor: Sendable {
    enum Values: Sendable {
        case float([Float])
        /// INT64, INT32 and BOOL tensors, widened.
        case integer([Int64])
        /// A type the importer does not decode; refused when a node uses it.
        case unsupported
    }

    var name: String
    var dims: [Int]
    var dataType: ONNXDataType
    var values: Values

    var elementCount: Int { dims.reduce(1, *) }
}

/// One attribute of a node.
enum ONNXAttribute: Sendable {
    case float(Float)
    case int(Int64)
    case string([UInt8])
    case tensor(ONNXTensor)
    case floats([Float])
    case ints([Int64])
    case strings([[UInt8]])
    /// Graphs, sparse tensors, type protos, function references: never accepted.
    case unsupported(String)
}

struct ONNXNode: Sendable {
    var name: String
    var opType: String
    var domain: String
    /// Input names; an empty name marks an omitted optional input.
    var inputs: [String]
    var outputs: [String]
    var attributes: [String: ONNXAttribute]
}

/// A graph input or output as declared.
struct ONNXValueInfo: Sendable {
    enum Dim: Sendable, Equatable, CustomStringConvertible {
        case value(Int64)
        case param(String)
        case unknown

        var description: String {
            switch self {
            case .value(let v): "\(v)"
            case .param(let p): p
            case .unknown: "?"
            }
        }
    }

    var name: String
    /// Nil when the file gives no tensor type.
    var elemType: ONNXDataType?
    /// Nil when the file gives no shape.
    var dims: [Dim]?
}

struct ONNXGraphProto: Sendable {
    var name: String
    var nodes: [ONNXNode]
    var initializers: [ONNXTensor]
    var inputs: [ONNXValueInfo]
    var outputs: [ONNXValueInfo]
}

struct ONNXModel: Sendable {
    var irVersion: Int64
    var producer: String
    /// Opset version per domain; the default domain is `""`.
    var opsets: [String: Int64]
    var graph: ONNXGraphProto
}
