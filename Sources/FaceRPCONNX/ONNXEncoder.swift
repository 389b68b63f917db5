import CONNXProtos

/// Serialises an ``ONNXModel`` through protobuf-c: the mirror of ``ONNXDecoder``.
///
/// The value types are copied into generated C structs held by an
/// ``ONNXEncodeArena``, packed once, and freed before ``encode(_:)`` returns;
/// no C pointer escapes. Tensors are written as little-endian `raw_data`,
/// attributes with their `type` set (required from IR version 3 on), and
/// attributes in name order so the same model always gives the same bytes.
enum ONNXEncoder {
    /// Errors here are programming errors in the caller (a tensor type the
    /// encoder cannot write) or a model over ``ONNXImportLimits/maxFileBytes``.
    static func encode(_ model: ONNXModel) throws -> [UInt8] {
        let arena = ONNXEncodeArena()
        let message = try arena.model(model)
        let size = onnx__model_proto__get_packed_size(message)
        // Bounded by what the importer reads back (and far under protobuf's 2 GiB).
        guard size <= ONNXImportLimits.maxFileBytes else {
            throw ONNXExportError(message: "the model would be \(size) bytes, over the limit of \(ONNXImportLimits.maxFileBytes)")
        }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = size == 0 ? 0 : onnx__model_proto__pack(message, buffer.baseAddress!)
            precondition(initialized == size, "protobuf-c packed \(initialized) bytes, sized \(size)")
        }
    }
}

/// Owns the C memory of one ModelProto tree while it is packed; everything is
/// freed together in `deinit`. Not `Sendable`: it lives inside one `encode` call.
private final class ONNXEncodeArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { block.deallocate() }
    }

    private func raw(_ byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let block = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: max(alignment, 16))
        blocks.append(block)
        return block
    }

    /// A zeroed struct, then its protobuf-c `__init`, which sets the descriptor and defaults.
    private func new<T>(_ type: T.Type, _ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let size = MemoryLayout<T>.stride
        let block = raw(size, alignment: MemoryLayout<T>.alignment)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        let p = block.bindMemory(to: T.self, capacity: 1)
        initialize(p)
        return p
    }

    /// A NUL-terminated copy; protobuf-c writes up to the first NUL, so names
    /// containing one are refused rather than truncated.
    private func cString(_ s: String) throws -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(s.utf8)
        guard !utf8.contains(0) else { throw ONNXExportError(message: "name '\(s)' contains a NUL character") }
        let p = raw(utf8.count + 1, alignment: 1).bindMemory(to: CChar.self, capacity: utf8.count + 1)
        for (i, b) in utf8.enumerated() { p[i] = CChar(bitPattern: b) }
        p[utf8.count] = 0
        return p
    }

    private func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let p = raw(MemoryLayout<T>.stride * values.count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: values.count)
        _ = UnsafeMutableBufferPointer(start: p, count: values.count).initialize(from: values)
        return p
    }

    /// A `T **` of built sub-messages, or nil when empty.
    private func pointers<T>(_ items: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
        array(items.map { Optional($0) })
    }

    private func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        ProtobufCBinaryData(len: bytes.count, data: array(bytes))
    }

    /// `count` values of `width` bytes each, little-endian, as one `raw_data` buffer.
    private func littleEndian(count: Int, width: Int, _ word: (Int) -> UInt64) -> ProtobufCBinaryData {
        let byteCount = count * width
        let p = raw(byteCount, alignment: 8).bindMemory(to: UInt8.self, capacity: byteCount)
        for i in 0..<count {
            var w = word(i)
            for b in 0..<width {
                p[i * width + b] = UInt8(truncatingIfNeeded: w)
                w >>= 8
            }
        }
        return ProtobufCBinaryData(len: byteCount, data: byteCount == 0 ? nil : p)
    }

    // MARK: - Messages

    func model(_ m: ONNXModel) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
        let g = try graph(m.graph)
        let opsets = try m.opsets.keys.sorted().map { domain in
            let version = m.opsets[domain]!
            let name = try cString(domain)
            return new(Onnx__OperatorSetIdProto.self) {
                onnx__operator_set_id_proto__init($0)
                $0.pointee.domain = name
                $0.pointee.has_version = 1
                $0.pointee.version = version
            }
        }
        let producer = try cString(m.producer)
        return new(Onnx__ModelProto.self) {
            onnx__model_proto__init($0)
            $0.pointee.has_ir_version = 1
            $0.pointee.ir_version = m.irVersion
            $0.pointee.producer_name = producer
            $0.pointee.graph = g
            $0.pointee.n_opset_import = opsets.count
            $0.pointee.opset_import = pointers(opsets)
        }
    }

    private func graph(_ g: ONNXGraphProto) throws -> UnsafeMutablePointer<Onnx__GraphProto> {
        let nodes = try g.nodes.map { try node($0) }
        let initializers = try g.initializers.map { try tensor($0) }
        let inputs = try g.inputs.map { try valueInfo($0) }
        let outputs = try g.outputs.map { try valueInfo($0) }
        let name = try cString(g.name)
        return new(Onnx__GraphProto.self) {
            onnx__graph_proto__init($0)
            $0.pointee.name = name
            $0.pointee.n_node = nodes.count
            $0.pointee.node = pointers(nodes)
            $0.pointee.n_initializer = initializers.count
            $0.pointee.initializer = pointers(initializers)
            $0.pointee.n_input = inputs.count
            $0.pointee.input = pointers(inputs)
            $0.pointee.n_output = outputs.count
            $0.pointee.output = pointers(outputs)
        }
    }

    private func node(_ n: ONNXNode) throws -> UnsafeMutablePointer<Onnx__NodeProto> {
        let inputs = try n.inputs.map { Optional(try cString($0)) }
        let outputs = try n.outputs.map { Optional(try cString($0)) }
        let attributes = try n.attributes.keys.sorted().map { try attribute($0, n.attributes[$0]!, node: n) }
        let name = try cString(n.name), opType = try cString(n.opType)
        let domain = n.domain.isEmpty ? nil : try cString(n.domain)
        return new(Onnx__NodeProto.self) {
            onnx__node_proto__init($0)
            $0.pointee.name = name
            $0.pointee.op_type = opType
            $0.pointee.domain = domain
            $0.pointee.n_input = inputs.count
            $0.pointee.input = array(inputs)
            $0.pointee.n_output = outputs.count
            $0.pointee.output = array(outputs)
            $0.pointee.n_attribute = attributes.count
            $0.pointee.attribute = pointers(attributes)
        }
    }

    private func attribute(_ name: String, _ a: ONNXAttribute, node: ONNXNode) throws -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let cName = try cString(name)
        var subTensor: UnsafeMutablePointer<Onnx__TensorProto>?
        if case .tensor(let t) = a { subTensor = try tensor(t) }
        if case .unsupported(let what) = a {
            throw ONNXExportError(message: "\(node.opType) node '\(node.name)': attribute '\(name)' is \(what), which cannot be written")
        }
        return new(Onnx__AttributeProto.self) { p in
            onnx__attribute_proto__init(p)
            p.pointee.name = cName
            p.pointee.has_type = 1
            switch a {
            case .float(let v):
                p.pointee.type = 1; p.pointee.has_f = 1; p.pointee.f = v
            case .int(let v):
                p.pointee.type = 2; p.pointee.has_i = 1; p.pointee.i = v
            case .string(let v):
                p.pointee.type = 3; p.pointee.has_s = 1; p.pointee.s = binary(v)
            case .tensor:
                p.pointee.type = 4; p.pointee.t = subTensor
            case .floats(let v):
                p.pointee.type = 6; p.pointee.n_floats = v.count; p.pointee.floats = array(v)
            case .ints(let v):
                p.pointee.type = 7; p.pointee.n_ints = v.count; p.pointee.ints = array(v)
            case .strings(let v):
                p.pointee.type = 8; p.pointee.n_strings = v.count; p.pointee.strings = array(v.map { binary($0) })
            case .unsupported:
                break  // Refused above.
            }
        }
    }

    private func tensor(_ t: ONNXTensor) throws -> UnsafeMutablePointer<Onnx__TensorProto> {
        let data: ProtobufCBinaryData
        switch (t.dataType, t.values) {
        case (.float, .float(let v)) where v.count == t.elementCount:
            data = littleEndian(count: v.count, width: 4) { UInt64(v[$0].bitPattern) }
        case (.int64, .integer(let v)) where v.count == t.elementCount:
            data = littleEndian(count: v.count, width: 8) { UInt64(bitPattern: v[$0]) }
        case (.int32, .integer(let v)) where v.count == t.elementCount:
            data = littleEndian(count: v.count, width: 4) { UInt64(UInt32(truncatingIfNeeded: v[$0])) }
        default:
            throw ONNXExportError(message: "tensor '\(t.name)' (\(t.dataType), dims \(t.dims)) has values the encoder cannot write")
        }
        let name = try cString(t.name)
        let dims = t.dims.map { Int64($0) }
        return new(Onnx__TensorProto.self) {
            onnx__tensor_proto__init($0)
            $0.pointee.name = name
            $0.pointee.n_dims = dims.count
            $0.pointee.dims = array(dims)
            $0.pointee.has_data_type = 1
            $0.pointee.data_type = t.dataType.rawValue
            $0.pointee.has_raw_data = 1
            $0.pointee.raw_data = data
        }
    }

    private func valueInfo(_ v: ONNXValueInfo) throws -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        var tensorType: UnsafeMutablePointer<Onnx__TypeProto__Tensor>?
        if v.elemType != nil || v.dims != nil {
            var shape: UnsafeMutablePointer<Onnx__TensorShapeProto>?
            if let dims = v.dims {
                let built = try dims.map { d in
                    let param: UnsafeMutablePointer<CChar>? = if case .param(let s) = d { try cString(s) } else { nil }
                    return new(Onnx__TensorShapeProto__Dimension.self) {
                        onnx__tensor_shape_proto__dimension__init($0)
                        if case .value(let value) = d {
                            $0.pointee.has_dim_value = 1
                            $0.pointee.dim_value = value
                        }
                        $0.pointee.dim_param = param
                    }
                }
                shape = new(Onnx__TensorShapeProto.self) {
                    onnx__tensor_shape_proto__init($0)
                    $0.pointee.n_dim = built.count
                    $0.pointee.dim = pointers(built)
                }
            }
            tensorType = new(Onnx__TypeProto__Tensor.self) {
                onnx__type_proto__tensor__init($0)
                if let elemType = v.elemType {
                    $0.pointee.has_elem_type = 1
                    $0.pointee.elem_type = elemType.rawValue
                }
                $0.pointee.shape = shape
            }
        }
        let type = tensorType.map { tt in
            new(Onnx__TypeProto.self) {
                onnx__type_proto__init($0)
                $0.pointee.tensor_type = tt
            }
        }
        let name = try cString(v.name)
        return new(Onnx__ValueInfoProto.self) {
            onnx__value_info_proto__init($0)
            $0.pointee.name = name
            $0.pointee.type = type
        }
    }
}
