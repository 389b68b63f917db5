import Testing
@testable import FaceRPCDetection
import FaceRPCImage

@Suite("ShapePredictor inference")
struct ShapePredictorTests {
    static func noiseImage(width: Int, height: Int, seed: UInt64) -> GrayImage {
        var rng = SplitMix64(seed: seed)
        return GrayImage(width: width, height: height, pixels: (0..<width * height).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    }

    static func synthetic() throws -> ShapePredictor {
        try ShapePredictor(serialized: SyntheticShapePredictor(parts: 5, cascades: 4, trees: 20, depth: 3, features: 40, seed: 5).serialized)
    }

    @Test("dlib gray is the truncated mean of r, g, b")
    func grayConversion() {
        let rgb = RGBImage(width: 5, height: 1, pixels: [255, 255, 255, 1, 1, 0, 2, 2, 2, 255, 255, 254, 10, 200, 31])
        let gray = GrayImage(dlibGrayscaleOf: rgb)
        #expect(gray.pixels == [255, 0, 2, 254, 80])
        #expect(GrayImage(dlibGrayscaleOf: RGBImage(width: 0, height: 0)).pixels.isEmpty)
    }

    @Test("predict rounds the subpixel result with floor(v + 0.5)")
    func rounding() throws {
        let predictor = try Self.synthetic()
        let image = Self.noiseImage(width: 64, height: 48, seed: 1)
        let box = Rect(x: 10, y: 7, width: 30, height: 28)
        let exact = predictor.predictSubpixel(image, box: box)
        let rounded = predictor.predict(image, box: box)
        #expect(rounded.count == 5)
        for (r, e) in zip(rounded, exact) {
            #expect(r.x == (e.x + 0.5).rounded(.down) && r.y == (e.y + 0.5).rounded(.down))
        }
    }

    @Test("mapping to image coordinates uses dlib's inclusive box corners")
    func boxMap() {
        let map = BoxMap(Rect(x: 10, y: 20, width: 101, height: 51))
        #expect(map.apply(0, 0) == Point2(x: 10, y: 20))
        #expect(map.apply(1, 1) == Point2(x: 110, y: 70))  // dlib right = left + width - 1
        #expect(map.apply(0.5, 0.5) == Point2(x: 60, y: 45))
    }

    @Test("similarity fit recovers a known rotation and scale")
    func similarity() {
        let from: [Float] = [0.1, 0.2, 0.8, 0.25, 0.5, 0.9, 0.3, 0.6]
        let (a, b): (Float, Float) = (0.8, 0.3)  // scale ~0.854, rotation ~20.6 degrees
        var to = [Float](repeating: 0, count: from.count)
        for i in 0..<4 {
            to[2 * i] = a * from[2 * i] - b * from[2 * i + 1] + 0.05
            to[2 * i + 1] = b * from[2 * i] + a * from[2 * i + 1] - 0.1
        }
        let m = from.withUnsafeBufferPointer { f in to.withUnsafeBufferPointer { t in similarityMatrix(from: f, to: t) } }
        #expect(abs(m.m00 - a) < 1e-6 && abs(m.m11 - a) < 1e-6)
        #expect(abs(m.m10 - b) < 1e-6 && abs(m.m01 + b) < 1e-6)
    }

    @Test("translating image and box together translates the points")
    func translationEquivariance() throws {
        let predictor = try Self.synthetic()
        let image = Self.noiseImage(width: 40, height: 40, seed: 2)
        // Embed at (13, 9) in a larger canvas; with the box well inside,
        // every feature pixel reads the same value.
        var canvas = [UInt8](repeating: 0, count: 80 * 70)
        for y in 0..<40 { for x in 0..<40 { canvas[(y + 9) * 80 + x + 13] = image.pixels[y * 40 + x] } }
        let big = GrayImage(width: 80, height: 70, pixels: canvas)
        let box = Rect(x: 12, y: 12, width: 16, height: 16)
        let moved = Rect(x: box.x + 13, y: box.y + 9, width: box.width, height: box.height)
        let p = predictor.predict(image, box: box)
        let q = predictor.predict(big, box: moved)
        #expect(zip(p, q).allSatisfy { $1.x == $0.x + 13 && $1.y == $0.y + 9 })
    }

    @Test("degenerate inputs do not crash")
    func degenerate() throws {
        let predictor = try Self.synthetic()
        let image = Self.noiseImage(width: 20, height: 20, seed: 3)
        let empty = GrayImage(width: 0, height: 0, pixels: [])
        // Outside the image every feature is 0: the result equals running on a black image.
        let black = GrayImage(width: 20, height: 20, pixels: [UInt8](repeating: 0, count: 400))
        let far = Rect(x: 1000, y: -500, width: 50, height: 50)
        #expect(predictor.predict(image, box: far) == predictor.predict(black, box: far))
        #expect(predictor.predict(empty, box: Rect(x: 0, y: 0, width: 10, height: 10)).allSatisfy { $0.x.isFinite && $0.y.isFinite })
        let nan = predictor.predict(image, box: Rect(x: .nan, y: 0, width: 10, height: 10))
        #expect(nan.count == 5 && nan.allSatisfy { $0.x.isNaN })
        let inf = predictor.predict(image, box: Rect(x: 0, y: 0, width: .infinity, height: 10))
        #expect(inf.count == 5)
        let huge = predictor.predict(image, box: Rect(x: -1e300, y: 1e300, width: 1e308, height: 1e308))
        #expect(huge.count == 5)
        let tiny = predictor.predict(image, box: Rect(x: 5, y: 5, width: 1, height: 1))
        #expect(tiny.allSatisfy { $0 == Point2(x: 5, y: 5) })
    }

    @Test("concurrent predictions agree")
    func concurrent() async throws {
        let predictor = try Self.synthetic()
        let image = Self.noiseImage(width: 64, height: 64, seed: 4)
        let box = Rect(x: 8, y: 8, width: 40, height: 40)
        let expected = predictor.predict(image, box: box)
        let results = await withTaskGroup(of: [Point2].self) { group in
            for _ in 0..<8 { group.addTask { predictor.predict(image, box: box) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8 && results.allSatisfy { $0 == expected })
    }
}
