// Fuzz target: the ONNX importer (protobuf-c parse of our schema subset,
// lowering, folding, shape inference) on untrusted model bytes.
import FaceRPCONNX
#if !FUZZING
import FuzzSupport
#endif

func fuzzONNX(_ bytes: UnsafeRawBufferPointer) {
    _ = try? ONNXImporter.importGraph(bytes: Array(bytes))
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzONNX(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
FuzzReplay.main("fuzz-onnx", fuzzONNX)
#endif
