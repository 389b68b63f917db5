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

// libFuzzer drives `fuzzJPEG` through SwiftPM's entry point; without it, the files named are replayed.
#if FUZZING
@_cdecl("fuzz_jpeg_main") public func fuzzMain(_ c: CInt, _ v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc: c, argv: v) { fuzzJPEG(UnsafeRawBufferPointer(start: $0, count: $1)); return 0 }
}
#else
@main struct JPEGReplay { static func main() { FuzzReplay.main("fuzz-jpeg", fuzzJPEG) } }
#endif
