import Foundation
import Testing
@testable import FaceRPCImage

/// Parity with dlib (dlib-bin) through scripts/image-dlib-reference.py. Skipped
/// when python3 cannot import dlib or ../shared/data is absent.
@Suite("dlib parity", .serialized, .enabled(if: TestSupport.hasDlib))
struct FaceChipParityTests {
    /// 8 UTKFace faces (every 50th), or FACERPC_PARITY_IMAGES of them (every one)
    /// for a longer sweep, plus photos with larger and several faces.
    static var images: [URL] {
        let sweep = ProcessInfo.processInfo.environment["FACERPC_PARITY_IMAGES"].flatMap(Int.init)
        var urls = sweep.map { TestSupport.utkfaceImages($0) }
            ?? TestSupport.utkfaceImages(400).enumerated().filter { $0.offset % 50 == 0 }.map(\.element)
        for extra in ["demo_smahesh29/man1.jpg", "demo_smahesh29/woman1.jpg", "dlib_faces/2008_002079.jpg",
                      "dlib_faces/2008_001009.jpg", "dlib_faces/2009_004587.jpg"] {
            if let url = TestSupport.detectionImage(extra) { urls.append(url) }
        }
        return urls
    }

    @Test("face chips, grayscale and pyramid_down match dlib", arguments: images)
    func chipsMatchDlib(_ url: URL) throws {
        let (json, dir) = try TestSupport.dlibReference(["faces", url.path, "--sizes", "64", "32", "--padding", "0.2"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let width = json["width"] as! Int, height = json["height"] as! Int
        let pil = try #require(TestSupport.read(dir.appendingPathComponent(json["decoded"] as! String)))
        let image = RGBImage(width: width, height: height, pixels: pil)

        // Decode parity: libturbojpeg vs PIL's libjpeg(-turbo), same IDCT and upsampling.
        let jpeg = try #require(TestSupport.read(url))
        let ours = try JPEGDecoder.decode(jpeg, applyOrientation: false)
        #expect(ours.image.width == width && ours.image.height == height)
        let decodeDiff = TestSupport.compare(ours.image.pixels, pil)
        #expect(decodeDiff.maxDiff <= 1, "decode differs from PIL by up to \(decodeDiff.maxDiff) at \(decodeDiff.differing) bytes")

        let gray = try #require(TestSupport.read(dir.appendingPathComponent(json["gray"] as! String)))
        #expect(ImageOps.grayscale(image).pixels == gray)

        let pyr = json["pyramid_down"] as! [String: Any]
        let down = FaceChip.pyramidDown(image)
        #expect(down.width == pyr["width"] as! Int && down.height == pyr["height"] as! Int)
        #expect(down.pixels == TestSupport.read(dir.appendingPathComponent(pyr["file"] as! String)))

        let faces = json["faces"] as! [[String: Any]]
        // Every chosen photo has a face dlib finds; an empty list would make the checks below vacuous.
        #expect(!faces.isEmpty || ProcessInfo.processInfo.environment["FACERPC_PARITY_IMAGES"] != nil)
        for face in faces {
            let landmarks = (face["landmarks"] as! [[Int]]).map { Point2(x: Double($0[0]), y: Double($0[1])) }
            for chip in face["chips"] as! [[String: Any]] {
                let size = chip["size"] as! Int
                let details = try FaceChip.details(landmarks: landmarks, size: size, padding: 0.2)
                let rect = chip["rect"] as! [Double]
                #expect(abs(details.left - rect[0]) < 1e-6 && abs(details.top - rect[1]) < 1e-6)
                #expect(abs(details.right - rect[2]) < 1e-6 && abs(details.bottom - rect[3]) < 1e-6)
                #expect(abs(details.angle - (chip["angle"] as! Double)) < 1e-9)
                let expected = try #require(TestSupport.read(dir.appendingPathComponent(chip["file"] as! String)))
                let got = FaceChip.extract(image, details: details)
                #expect(got.width == size && got.height == size)
                let diff = TestSupport.compare(got.pixels, expected)
                if ProcessInfo.processInfo.environment["FACERPC_PARITY_IMAGES"] != nil {
                    print("parity-chip \(url.lastPathComponent) \(size) maxdiff=\(diff.maxDiff) differing=\(diff.differing) decode-maxdiff=\(decodeDiff.maxDiff)")
                }
                #expect(diff.maxDiff <= 1, "\(url.lastPathComponent) size \(size): max diff \(diff.maxDiff)")
                // Differences may only come from floating-point ties at truncation.
                #expect(diff.differing * 100 <= expected.count, "\(diff.differing) of \(expected.count) bytes differ")
            }
        }
    }

    @Test("arbitrary chip_details (rotation, scale, image border) match dlib's extract_image_chip")
    func arbitraryChips() throws {
        guard let url = TestSupport.detectionImage("demo_smahesh29/man1.jpg") ?? TestSupport.utkfaceImages(1).first else { return }
        let decoded = try JPEGDecoder.decode(try #require(TestSupport.read(url)), applyOrientation: false)
        let w = Double(decoded.image.width), h = Double(decoded.image.height)
        // Deterministic spread: small and large rects, inside and across the border, many angles.
        var details: [ChipDetails] = []
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Double(seed >> 11) / Double(1 << 53) }
        for i in 0..<24 {
            let side = 10 + next() * min(w, h) * 1.2
            let cx = -0.2 * w + next() * 1.4 * w, cy = -0.2 * h + next() * 1.4 * h
            let size = [16, 32, 50, 64, 150][i % 5]
            details.append(ChipDetails(left: cx - side / 2, top: cy - side / 2, right: cx + side / 2, bottom: cy + side / 2,
                                       angle: (next() - 0.5) * 2 * Double.pi, rows: size, cols: size + (i % 3)))
        }
        let args = details.flatMap { [$0.left, $0.top, $0.right, $0.bottom, $0.angle, Double($0.rows), Double($0.cols)] }
            .map { String($0) }
        let (json, dir) = try TestSupport.dlibReference(["chips", url.path, "--details"] + args)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The script cuts from PIL's decode; the decode test shows ours is identical.
        let pilDecoded = decoded.image
        for (i, chip) in (json["chips"] as! [[String: Any]]).enumerated() {
            let expected = try #require(TestSupport.read(dir.appendingPathComponent(chip["file"] as! String)))
            let got = FaceChip.extract(pilDecoded, details: details[i])
            #expect(got.height == chip["rows"] as! Int && got.width == chip["cols"] as! Int)
            guard got.pixels.count == expected.count else { continue }
            let diff = TestSupport.compare(got.pixels, expected)
            #expect(diff.maxDiff <= 1, "chip \(i) \(details[i]): max diff \(diff.maxDiff), \(diff.differing) bytes")
        }
    }
}
