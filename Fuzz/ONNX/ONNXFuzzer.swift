// Fuzz target: the ONNX importer (protobuf-c parse of our schema subset,
// lowering, folding, shape inference) on untrusted model bytes.
import FaceRPCONNX
import FuzzSupport

func fuzzONNX(_ bytes: UnsafeRawBufferPointer) {
    _ = try? ONNXImporter.importGraph(bytes: Array(bytes))
}

#if FUZZING
/// The entry point SwiftPM gives this executable; libFuzzer drives `fuzzONNX`.
@_cdecl("fuzz_onnx_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        fuzzONNX(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
#else
/// Without libFuzzer: replay the files and folders named on the command line.
@main struct ONNXReplay {
    static func main() { FuzzReplay.main("fuzz-onnx", fuzzONNX) }
}
#endif
