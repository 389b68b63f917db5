// Timing and corpus check for FaceRPCImage, compiled together with the module's
// sources by scripts/image-bench.sh (release flags, no test harness).
//   image-bench [JPEG_DIR_OR_FILES...]
import Foundation

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func measure(_ label: String, iterations: Int, _ body: () throws -> Void) {
    func run() { do { try body() } catch { fatalError("\(label): \(error)") } }
    run()  // warm-up
    var best = Double.infinity, total = 0.0
    for _ in 0..<iterations {
        let t0 = now()
        run()
        let dt = now() - t0
        best = min(best, dt); total += dt
    }
    print(String(format: "%-44@ best %9.1f us   mean %9.1f us", label as NSString, best * 1e6, total / Double(iterations) * 1e6))
}

let args = CommandLine.arguments.dropFirst()
let shared = ProcessInfo.processInfo.environment["FACERPC_SHARED_DATA"] ?? "../shared/data"
let utkDir = args.first ?? shared + "/utkface/images"

// Corpus: every JPEG must decode under the strict policy (warnings are errors).
var files = (try? FileManager.default.contentsOfDirectory(atPath: utkDir))?.filter { $0.hasSuffix(".jpg") }.sorted().map { utkDir + "/" + $0 } ?? []
for extra in ["detection/demo_smahesh29", "detection/dlib_faces", "detection/adience_align"] {
    let dir = shared + "/" + extra
    files += ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".jpg") }.map { dir + "/" + $0 }
}
var failures: [String] = []
var bytesTotal = 0
let t0 = now()
for f in files {
    guard let data = FileManager.default.contents(atPath: f) else { continue }
    bytesTotal += data.count
    do { _ = try JPEGDecoder.decode([UInt8](data)) } catch { failures.append("\(f): \(error)") }
}
print("corpus: \(files.count) JPEGs, \(failures.count) rejected, \(String(format: "%.2f", now() - t0)) s total")
for f in failures.prefix(10) { print("  rejected: \(f)") }

func load(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }
let utk = load(files.first { $0.contains("utkface") } ?? "")
let big = load(shared + "/detection/dlib_faces/2008_002079.jpg")
let man = load(shared + "/detection/demo_smahesh29/man1.jpg")
for (name, jpeg) in [("utkface 200x200", utk), ("2008_002079.jpg", big), ("man1.jpg", man)] where !jpeg.isEmpty {
    let d = try JPEGDecoder.decode(jpeg)
    measure("decode \(name) \(d.image.width)x\(d.image.height)", iterations: 30) { _ = try JPEGDecoder.decode(jpeg) }
}
// A synthetic 12 MP photo-like image (encode once, decode many).
var photo = RGBImage(width: 4000, height: 3000)
photo.pixels.withUnsafeMutableBufferPointer { p in
    for y in 0..<3000 { for x in 0..<4000 {
        let i = (y * 4000 + x) * 3
        p[i] = UInt8(truncatingIfNeeded: x &* 7 ^ y); p[i + 1] = UInt8(truncatingIfNeeded: y / 3 + x / 5); p[i + 2] = UInt8(truncatingIfNeeded: (x * y) >> 6)
    } }
}
let photoJPEG = try JPEGEncoder.encode(photo, quality: 85)
measure("encode 4000x3000 q85", iterations: 3) { _ = try JPEGEncoder.encode(photo, quality: 85) }
measure("decode 4000x3000 (\(photoJPEG.count / 1024) KiB)", iterations: 5) { _ = try JPEGDecoder.decode(photoJPEG) }
measure("EXIF orientation 6 on 4000x3000", iterations: 5) { _ = ImageOrientation.rightTop.apply(to: photo) }

let face = try JPEGDecoder.decode(utk).image
let landmarks = [Point2(x: 155, y: 61), Point2(x: 123, y: 62), Point2(x: 43, y: 61), Point2(x: 76, y: 63), Point2(x: 98, y: 117)]
for size in [64, 32, 150] {
    let details = try FaceChip.details(landmarks: landmarks, size: size, padding: 0.2)
    measure("face chip \(size)x\(size) from 200x200 (details+extract)", iterations: 2000) {
        _ = FaceChip.extract(face, details: try FaceChip.details(landmarks: landmarks, size: size, padding: 0.2))
    }
    _ = details
}
let big1 = try JPEGDecoder.decode(big).image
let bigLandmarks = landmarks.map { Point2(x: $0.x * 3 + 100, y: $0.y * 3 + 50) }
measure("face chip 64x64 from \(big1.width)x\(big1.height), 600 px face", iterations: 500) {
    _ = try FaceChip.extract(big1, landmarks: bigLandmarks, size: 64, padding: 0.2)
}
let chip = try FaceChip.extract(face, landmarks: landmarks, size: 64, padding: 0.2)
measure("toTensor 64x64", iterations: 5000) { _ = FaceChip.toTensor(chip, mean: [122.78, 117.0, 104.3], scale: 1.0 / 256) }
measure("warpAffine 200x200 -> 200x200 rotated", iterations: 200) {
    _ = ImageOps.warpAffine(face, transform: FaceRPCImageBench.AffineTransform(a: 0.9, b: -0.2, c: 0.2, d: 0.9, tx: 10, ty: -5), width: 200, height: 200)
}
measure("grayscale 4000x3000", iterations: 5) { _ = ImageOps.grayscale(photo) }
measure("resizeBilinear 4000x3000 -> 1418x1063", iterations: 5) { _ = ImageOps.resizeBilinear(photo, width: 1418, height: 1063) }
measure("resizeBilinearPlanar 4000x3000 -> 1418x1063", iterations: 5) {
    _ = ImageOps.resizeBilinearPlanar(photo, width: 1418, height: 1063, mean: [127.5, 127.5, 127.5], scale: 0.0078125)
}
measure("resizeBilinearPlanar 640x480 -> 454x340", iterations: 50) {
    _ = ImageOps.resizeBilinearPlanar(big1, width: 454, height: 340, mean: [127.5, 127.5, 127.5], scale: 0.0078125)
}
var canvas = photo
measure("annotate: 10 boxes + labels on 4000x3000", iterations: 20) {
    for i in 0..<10 {
        canvas.drawRectangle(Rect(x: Double(i * 300), y: 100, width: 250, height: 250), color: .green, thickness: 4)
        canvas.drawText("female 34", x: i * 300, y: 80, color: .white, background: .black, scale: 3)
    }
}
