// Fuzz target: an untrusted JPEG from header checks through decoding, EXIF
// orientation, to the detector's first input (a resampled planar float image).
import FaceRPCImage
import FuzzSupport

func fuzzJPEG(_ bytes: UnsafeRawBufferPointer) {
    // Limits small enough that the fuzzer is not slowed by legitimately huge images.
    let limits = ImageLimits(maxPixels: 4_000_000, maxSide: 4096)
    guard let decoded = try? JPEGDecoder.decode(bytes, limits: limits) else { return }
    let image = decoded.image
    // The detector's first pyramid level: the image scaled to 12/20 of its side.
    let width = max(1, image.width * 12 / 20), height = max(1, image.height * 12 / 20)
    let small = ImageOps.resizeBilinear(image, width: width, height: height)
    precondition(small.width == width && small.height == height, "resize returned the wrong size")
    _ = ImageOps.grayscale(small)
}

#if FUZZING
/// The entry point SwiftPM gives this executable; libFuzzer drives `fuzzJPEG`.
@_cdecl("fuzz_jpeg_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        fuzzJPEG(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
#else
/// Without libFuzzer: replay the files and folders named on the command line.
@main struct JPEGReplay {
    static func main() { FuzzReplay.main("fuzz-jpeg", fuzzJPEG) }
}
#endif
