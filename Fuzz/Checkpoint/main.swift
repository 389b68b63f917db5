// Fuzz target: the training checkpoint reader on untrusted bytes (a damaged
// or hostile file in the state directory).
import FaceRPCTraining
#if !FUZZING
import FuzzSupport
#endif

func fuzzCheckpoint(_ bytes: UnsafeRawBufferPointer) {
    _ = try? CheckpointFile.decode(bytes, path: "fuzz-input")
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzCheckpoint(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
FuzzReplay.main("fuzz-checkpoint", fuzzCheckpoint)
#endif
