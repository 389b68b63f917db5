// Fuzz target: the ONNX importer (protobuf-c parse of our schema subset,
// lowering, folding, shape inference) on untrusted model bytes.
import FaceRPCONNX
import FuzzSupport

func fuzzONNX(_ bytes: UnsafeRawBufferPointer) {
    _ = try? ONNXImporter.importGraph(bytes: Array(bytes))
}

// libFuzzer drives `fuzzONNX` through SwiftPM's entry point; without it, the files named are replayed.
#if FUZZING
@_cdecl("fuzz_onnx_main") public func fuzzMain(_ c: CInt, _ v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc: c, argv: v) { fuzzONNX(UnsafeRawBufferPointer(start: $0, count: $1)); return 0 }
}
#else
@main struct ONNXReplay { static func main() { FuzzReplay.main("fuzz-onnx", fuzzONNX) } }
#endif
