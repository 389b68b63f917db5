// Fuzz target: the training checkpoint reader on untrusted bytes (a damaged
// or hostile file in the state directory).
import FaceRPCTraining
import FuzzSupport

func fuzzCheckpoint(_ bytes: UnsafeRawBufferPointer) {
    _ = try? CheckpointFile.decode(bytes, path: "fuzz-input")
}

#if FUZZING
/// The entry point SwiftPM gives this executable; libFuzzer drives `fuzzCheckpoint`.
@_cdecl("fuzz_checkpoint_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        fuzzCheckpoint(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
#else
/// Without libFuzzer: replay the files and folders named on the command line.
@main struct CheckpointReplay {
    static func main() { FuzzReplay.main("fuzz-checkpoint", fuzzCheckpoint) }
}
#endif
