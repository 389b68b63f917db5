/// Builds small ONNX models as protobuf bytes, for tests.
///
/// Written from the public ONNX field numbers, like Protos/onnx/onnx-subset.proto;
/// the parity tests run the same bytes through onnxruntime, which would reject a
/// wrong encoding, so the builder and the importer cannot share a mistake unseen.

/// A minimal protobuf encoder.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    mutating func int(_ field: Int, _ v: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: v))
    }

    mutating func float(_ field: Int, _ v: Float) {
        tag(field, 5)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func data(_ field: Int, _ b: [UInt8]) {
        tag(field, 2)
        varint(UInt64(b.count))
        bytes += b
    }

    mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        data(field, inner.bytes)
    }

    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var inner = ProtoWriter()
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { inner.bytes += $0 } }
        data(field, inner.bytes)
    }

    mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var inner = ProtoWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        data(field, inner.bytes)
    }
}

/// A constant tensor for a test model.
struct TestTensor {
    enum Encoding { case raw, typed }
    var name: String
    var dims: [Int]
    var floats: [Float]? = nil
    var ints: [Int64]? = nil
    var encoding: Encoding = .raw
    /// Overrides the data type written (e.g. 11 for DOUBLE).
    var dataType: Int32? = nil
    /// Overrides the raw bytes written (for corrupt-data tests).
    var rawBytes: [UInt8]? = nil
    var external = false

    static func float(_ name: String, _ dims: [Int], _ values: [Float], encoding: Encoding = .raw) -> TestTensor {
        TestTensor(name: name, dims: dims, floats: values, encoding: encoding)
    }

    static func int64(_ name: String, _ dims: [Int], _ values: [Int64]) -> TestTensor {
        TestTensor(name: name, dims: dims, ints: values)
    }

    func encode(_ w: inout ProtoWriter) {
        for d in dims { w.int(1, Int64(d)) }
        w.int(2, Int64(dataType ?? (floats != nil ? 1 : 7)))
        w.string(8, name)
        if external { w.int(14, 1) }
        if let rawBytes {
            w.data(9, rawBytes)
        } else if let floats {
            if encoding == .typed {
                w.packedFloats(4, floats)
            } else {
                var raw: [UInt8] = []
                for v in floats { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 } }
                w.data(9, raw)
            }
        } else if let ints {
            if encoding == .typed {
                w.packedInts(7, ints)
            } else {
                var raw: [UInt8] = []
                for v in ints { withUnsafeBytes(of: v.littleEndian) { raw += $0 } }
                w.data(9, raw)
            }
        }
    }
}

enum TestAttribute {
    case int(String, Int64)
    case ints(String, [Int64])
    case float(String, Float)
    case string(String, String)
    case tensor(String, TestTensor)

    func encode(_ w: inout ProtoWriter) {
        switch self {
        case .int(let name, let v): w.string(1, name); w.int(3, v); w.int(20, 2)
        case .ints(let name, let v): w.string(1, name); for x in v { w.int(8, x) }; w.int(20, 7)
        case .float(let name, let v): w.string(1, name); w.float(2, v); w.int(20, 1)
        case .string(let name, let v): w.string(1, name); w.data(4, Array(v.utf8)); w.int(20, 3)
        case .tensor(let name, let t): w.string(1, name); w.message(5) { t.encode(&$0) }; w.int(20, 4)
        }
    }
}

struct TestNode {
    var op: String
    var name: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [TestAttribute] = []
    var domain: String? = nil

    init(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String], _ attributes: [TestAttribute] = []) {
        self.op = op; self.name = name; self.inputs = inputs; self.outputs = outputs; self.attributes = attributes
    }
}

/// The bytes of a one-input, one-output ONNX model. A nil dim is the symbolic batch `N`.
func makeONNXModel(nodes: [TestNode], initializers: [TestTensor] = [],
                   input: (name: String, dims: [Int?]), output: (name: String, dims: [Int?]),
                   opset: Int64 = 18, irVersion: Int64 = 8, extraInputs: [String] = [], outputShapeKnown: Bool = true) -> [UInt8] {
    func valueInfo(_ w: inout ProtoWriter, _ name: String, _ dims: [Int?]?) {
        w.string(1, name)
        w.message(2) { type in
            type.message(1) { tensor in
                tensor.int(1, 1)
                guard let dims else { return }
                tensor.message(2) { shape in
                    for d in dims {
                        shape.message(1) { dim in
                            if let d { dim.int(1, Int64(d)) } else { dim.string(2, "N") }
                        }
                    }
                }
            }
        }
    }
    var w = ProtoWriter()
    w.int(1, irVersion)
    w.string(2, "facerpc-tests")
    w.message(7) { g in
        for n in nodes {
            g.message(1) { node in
                for i in n.inputs { node.string(1, i) }
                for o in n.outputs { node.string(2, o) }
                node.string(3, n.name)
                node.string(4, n.op)
                for a in n.attributes { node.message(5) { a.encode(&$0) } }
                if let d = n.domain { node.string(7, d) }
            }
        }
        g.string(2, "test")
        for t in initializers { g.message(5) { t.encode(&$0) } }
        g.message(11) { valueInfo(&$0, input.name, input.dims) }
        for name in extraInputs { g.message(11) { valueInfo(&$0, name, input.dims) } }
        g.message(12) { valueInfo(&$0, output.name, outputShapeKnown ? output.dims : nil) }
    }
    w.message(8) { op in
        op.string(1, "")
        op.int(2, opset)
    }
    return w.bytes
}
