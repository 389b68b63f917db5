// Timing harness for ShapePredictor, linked against the release objects by
// scripts/shapes-bench.sh. Usage: shapes-bench MODEL.dat [GRAY.raw WIDTH HEIGHT LEFT TOP RIGHT BOTTOM]
// Without an image it times a noise image with a centred box.
import FaceRPCDetection
import FaceRPCImage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Thread CPU time: the machine this was written on is shared, and CPU time
// leaves out the time the thread waits descheduled (not cache sharing).
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let args = CommandLine.arguments
guard args.count == 2 || args.count == 9 else {
    print("usage: shapes-bench MODEL.dat [GRAY.raw WIDTH HEIGHT LEFT TOP RIGHT BOTTOM]")
    exit(2)
}

var loads: [Double] = []
var predictor: ShapePredictor! = nil
for _ in 0..<5 {
    let t0 = now()
    predictor = try ShapePredictor(path: args[1])
    loads.append(now() - t0)
}
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return "\((value * scale).rounded() / scale)"
}

let loadBest = loads.min()! * 1e3, loadMedian = loads.sorted()[2] * 1e3
print("load (CPU time): best \(fixed(loadBest, 1)) ms, median \(fixed(loadMedian, 1)) ms")

let image: GrayImage
let box: Rect
if args.count == 9 {
    let width = Int(args[3])!, height = Int(args[4])!
    let file = fopen(args[2], "rb")!
    var pixels = [UInt8](repeating: 0, count: width * height)
    precondition(fread(&pixels, 1, pixels.count, file) == pixels.count, "short gray file")
    fclose(file)
    image = GrayImage(width: width, height: height, pixels: pixels)
    let (l, t, r, b) = (Double(args[5])!, Double(args[6])!, Double(args[7])!, Double(args[8])!)
    box = Rect(x: l, y: t, width: r - l + 1, height: b - t + 1)
} else {
    var state: UInt32 = 12345
    image = GrayImage(width: 640, height: 480, pixels: (0..<640 * 480).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: state >> 24)
    })
    box = Rect(x: 220, y: 140, width: 200, height: 200)
}

var sink = 0.0
for _ in 0..<200 { sink += predictor.predict(image, box: box)[0].x }
var samples: [Double] = []
for _ in 0..<50 {
    let n = 200
    let t0 = now()
    for _ in 0..<n { sink += predictor.predict(image, box: box)[0].x }
    samples.append((now() - t0) / Double(n))
}
samples.sort()
let best = samples[0] * 1e6, median = samples[samples.count / 2] * 1e6
print("predict: best \(fixed(best, 2)) us, median \(fixed(median, 2)) us per face, CPU time (\(predictor.numParts) parts)")
print("points:", predictor.predict(image, box: box).map { "(\(Int($0.x)), \(Int($0.y)))" }.joined(separator: " "), sink > 0 ? "" : " ")
