// Fuzz target: the training checkpoint reader on untrusted bytes (a damaged
// or hostile file in the state directory).
import FaceRPCTraining
import FuzzSupport

func fuzzCheckpoint(_ bytes: UnsafeRawBufferPointer) {
    _ = try? CheckpointFile.decode(bytes, path: "fuzz-input")
}

// libFuzzer drives `fuzzCheckpoint` through SwiftPM's entry point; without it, the files named are replayed.
#if FUZZING
@_cdecl("fuzz_checkpoint_main") public func fuzzMain(_ c: CInt, _ v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc: c, argv: v) { fuzzCheckpoint(UnsafeRawBufferPointer(start: $0, count: $1)); return 0 }
}
#else
@main struct CheckpointReplay { static func main() { FuzzReplay.main("fuzz-checkpoint", fuzzCheckpoint) } }
#endif
