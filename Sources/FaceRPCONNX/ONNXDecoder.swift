import CONNXProtos

/// Parses `.onnx` bytes with protobuf-c and copies what the importer reads
/// into ``ONNXModel`` value types.
///
/// The unpacked protobuf-c message lives only inside ``decode(_:)``: it is
/// freed before returning, and no pointer into it escapes.
enum ONNXDecoder {
    static func decode(_ bytes: [UInt8]) throws -> ONNXModel {
        guard !bytes.isEmpty else {
            throw ONNXImportError(message: "the file is empty, not an ONNX model")
        }
        guard bytes.count <= ONNXImportLimits.maxFileBytes else {
            throw ONNXImportError(message: "the model is \(bytes.count) bytes, over the limit of \(ONNXImportLimits.maxFileBytes)")
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            guard let message = onnx__model_proto__unpack(nil, buffer.count, buffer.baseAddress) else {
                throw ONNXImportError(message: "the bytes are not a valid ONNX protobuf message (truncated or corrupt)")
            }
            defer { onnx__model_proto__free_unpacked(message, nil) }
            return try model(message.pointee)
        }
    }

    // MARK: - Messages

    private static func model(_ m: Onnx__ModelProto) throws -> ONNXModel {
        guard let g = m.graph else {
            throw ONNXImportError(message: "the model has no graph")
        }
        var opsets: [String: Int64] = [:]
        for op in array(m.opset_import, m.n_opset_import) {
            guard let op else { continue }
            let domain = string(op.pointee.domain)
            guard opsets[domain] == nil else {
                throw ONNXImportError(message: "opset_import lists domain '\(domain)' twice")
            }
            opsets[domain] = op.pointee.has_version != 0 ? op.pointee.version : 0
        }
        return ONNXModel(
            irVersion: m.has_ir_version != 0 ? m.ir_version : 0,
            producer: string(m.producer_name),
            opsets: opsets,
            graph: try graph(g.pointee)
        )
    }

    private static func graph(_ g: Onnx__GraphProto) throws -> ONNXGraphProto {
        guard g.n_node <= ONNXImportLimits.maxNodes else {
            throw ONNXImportError(message: "the graph has \(g.n_node) nodes, over the limit of \(ONNXImportLimits.maxNodes)")
        }
        var nodes: [ONNXNode] = []
        nodes.reserveCapacity(g.n_node)
        for n in array(g.node, g.n_node) {
            guard let n else { continue }
            nodes.append(try node(n.pointee))
        }
        var initializers: [ONNXTensor] = []
        for t in array(g.initializer, g.n_initializer) {
            guard let t else { continue }
            initializers.append(try tensor(t.pointee, context: "initializer"))
        }
        return ONNXGraphProto(
            name: string(g.name),
            nodes: nodes,
            initializers: initializers,
            inputs: try array(g.input, g.n_input).compactMap { try $0.map { try valueInfo($0.pointee) } },
            outputs: try array(g.output, g.n_output).compactMap { try $0.map { try valueInfo($0.pointee) } }
        )
    }

    private static func node(_ n: Onnx__NodeProto) throws -> ONNXNode {
        let name = string(n.name)
        let opType = string(n.op_type)
        var attributes: [String: ONNXAttribute] = [:]
        for a in array(n.attribute, n.n_attribute) {
            guard let a else { continue }
            let attrName = string(a.pointee.name)
            guard attributes[attrName] == nil else {
                throw ONNXImportError(message: "\(opType) node '\(name)': attribute '\(attrName)' appears twice")
            }
            attributes[attrName] = try attribute(a.pointee, node: "\(opType) node '\(name)'")
        }
        return ONNXNode(
            name: name,
            opType: opType,
            domain: string(n.domain),
            inputs: array(n.input, n.n_input).map { string($0) },
            outputs: array(n.output, n.n_output).map { string($0) },
            attributes: attributes
        )
    }

    private static func attribute(_ a: Onnx__AttributeProto, node: String) throws -> ONNXAttribute {
        if a.ref_attr_name != nil {
            return .unsupported("a reference to a function attribute")
        }
        // IR version 1 files carry no `type`; the populated field tells it then.
        var type = a.has_type != 0 ? a.type : 0
        if type == 0 {
            if a.has_f != 0 { type = 1 }
            else if a.has_i != 0 { type = 2 }
            else if a.has_s != 0 { type = 3 }
            else if a.t != nil { type = 4 }
            else if a.n_floats > 0 { type = 6 }
            else if a.n_ints > 0 { type = 7 }
            else if a.n_strings > 0 { type = 8 }
        }
        switch type {
        case 1: return .float(a.f)
        case 2: return .int(a.i)
        case 3: return .string(a.has_s != 0 ? bytes(a.s) : [])
        case 4:
            guard let t = a.t else {
                throw ONNXImportError(message: "\(node): tensor attribute '\(string(a.name))' has no tensor")
            }
            return .tensor(try tensor(t.pointee, context: "\(node) attribute '\(string(a.name))'"))
        case 6: return .floats(Array(UnsafeBufferPointer(start: a.floats, count: a.n_floats)))
        case 7: return .ints(Array(UnsafeBufferPointer(start: a.ints, count: a.n_ints)))
        case 8: return .strings(UnsafeBufferPointer(start: a.strings, count: a.n_strings).map { bytes($0) })
        case 5, 10: return .unsupported("a graph")
        case 9: return .unsupported("a list of tensors")
        case 11, 12: return .unsupported("a sparse tensor")
        case 13, 14: return .unsupported("a type proto")
        default: return .unsupported("attribute type \(type)")
        }
    }

    private static func valueInfo(_ v: Onnx__ValueInfoProto) throws -> ONNXValueInfo {
        var info = ONNXValueInfo(name: string(v.name), elemType: nil, dims: nil)
        guard let type = v.type, let tensorType = type.pointee.tensor_type else { return info }
        if tensorType.pointee.has_elem_type != 0 {
            info.elemType = ONNXDataType(rawValue: tensorType.pointee.elem_type)
        }
        if let shape = tensorType.pointee.shape {
            let dims = array(shape.pointee.dim, shape.pointee.n_dim)
            guard dims.count <= ONNXImportLimits.maxRank else {
                throw ONNXImportError(message: "value '\(info.name)' has rank \(dims.count), over the limit of \(ONNXImportLimits.maxRank)")
            }
            info.dims = dims.map { d in
                guard let d else { return .unknown }
                if d.pointee.has_dim_value != 0 { return .value(d.pointee.dim_value) }
                if d.pointee.dim_param != nil { return .param(string(d.pointee.dim_param)) }
                return .unknown
            }
        }
        return info
    }

    /// Copies a tensor's values after checking its rank, dims and element
    /// count against ``ONNXImportLimits`` and against the bytes present.
    private static func tensor(_ t: Onnx__TensorProto, context: String) throws -> ONNXTensor {
        let name = string(t.name)
        let what = name.isEmpty ? context : "\(context) '\(name)'"
        if t.has_data_location != 0 && t.data_location != 0 {
            throw ONNXImportError(message: "\(what) keeps its data in an external file, which is not supported")
        }
        guard t.n_dims <= ONNXImportLimits.maxRank else {
            throw ONNXImportError(message: "\(what) has rank \(t.n_dims), over the limit of \(ONNXImportLimits.maxRank)")
        }
        var dims: [Int] = []
        var count = 1
        for d in UnsafeBufferPointer(start: t.dims, count: t.n_dims) {
            guard d >= 0, d <= Int64(ONNXImportLimits.maxTensorElements) else {
                throw ONNXImportError(message: "\(what) has dimension \(d), outside 0...\(ONNXImportLimits.maxTensorElements)")
            }
            dims.append(Int(d))
            count *= Int(d)  // Each factor <= 2^28 and the product is checked each step: no overflow.
            guard count <= ONNXImportLimits.maxTensorElements else {
                throw ONNXImportError(message: "\(what) has more than \(ONNXImportLimits.maxTensorElements) elements")
            }
        }
        let dataType = ONNXDataType(rawValue: t.has_data_type != 0 ? t.data_type : 0)
        let raw: [UInt8]? = t.has_raw_data != 0 ? bytes(t.raw_data) : nil
        func expectRaw(_ width: Int) throws -> [UInt8] {
            guard let raw else {
                throw ONNXImportError(message: "\(what) (\(dataType)) has \(count) elements but no data")
            }
            guard raw.count == count * width else {
                throw ONNXImportError(message: "\(what) (\(dataType)) has \(raw.count) bytes of raw data, expected \(count * width) for dims \(dims)")
            }
            return raw
        }
        let typedCount = t.n_float_data + t.n_int32_data + t.n_int64_data
        if count > 0 && raw == nil && typedCount == 0 {
            throw ONNXImportError(message: "\(what) (\(dataType)) has \(count) elements but no data")
        }
        let values: ONNXTensor.Values
        switch dataType {
        case .float:
            if t.n_float_data > 0 || raw == nil {
                guard raw == nil, t.n_float_data == count else {
                    throw ONNXImportError(message: "\(what) (FLOAT) has \(t.n_float_data) float_data values, expected \(count) for dims \(dims)")
                }
                values = .float(Array(UnsafeBufferPointer(start: t.float_data, count: t.n_float_data)))
            } else {
                let raw = try expectRaw(4)
                values = .float(littleEndian(raw, count: count) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) })
            }
        case .int64:
            if t.n_int64_data > 0 || raw == nil {
                guard raw == nil, t.n_int64_data == count else {
                    throw ONNXImportError(message: "\(what) (INT64) has \(t.n_int64_data) int64_data values, expected \(count) for dims \(dims)")
                }
                values = .integer(Array(UnsafeBufferPointer(start: t.int64_data, count: t.n_int64_data)))
            } else {
                let raw = try expectRaw(8)
                values = .integer(littleEndian(raw, count: count) { Int64(bitPattern: $0) })
            }
        case .int32, .bool:
            let width = dataType == .bool ? 1 : 4
            if t.n_int32_data > 0 || raw == nil {
                guard raw == nil, t.n_int32_data == count else {
                    throw ONNXImportError(message: "\(what) (\(dataType)) has \(t.n_int32_data) int32_data values, expected \(count) for dims \(dims)")
                }
                values = .integer(UnsafeBufferPointer(start: t.int32_data, count: t.n_int32_data).map { Int64($0) })
            } else {
                let raw = try expectRaw(width)
                values = width == 1
                    ? .integer(raw.map { Int64($0) })
                    : .integer(littleEndian(raw, count: count) { Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: $0))) })
            }
        default:
            values = .unsupported
        }
        return ONNXTensor(name: name, dims: dims, dataType: dataType, values: values)
    }

    // MARK: - Helpers

    /// Reads `count` little-endian words of `raw.count / count` bytes (4 or 8).
    private static func littleEndian<T>(_ raw: [UInt8], count: Int, _ make: (UInt64) -> T) -> [T] {
        guard count > 0 else { return [] }
        let width = raw.count / count
        return raw.withUnsafeBytes { bytes in
            (0..<count).map { i in
                width == 8
                    ? make(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                    : make(UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
            }
        }
    }

    private static func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }

    private static func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        guard b.len > 0, let data = b.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: b.len))
    }

    private static func array<T>(_ p: UnsafeMutablePointer<T>?, _ n: Int) -> [T] {
        guard let p, n > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }
}
