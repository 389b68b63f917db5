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

        // Stages without trees (nothing to add, no leaves stored at all) leave the mean shape.
        let treeless = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 0, depth: 2, features: 4, seed: 6)
        let still = try ShapePredictor(serialized: treeless.serialized)
        let box = Rect(x: 0, y: 0, width: 11, height: 11)
        let expected = (0..<5).map { Point2(x: 10 * Double(treeless.initialShape[2 * $0]), y: 10 * Double(treeless.initialShape[2 * $0 + 1])) }
        #expect(still.predictSubpixel(image, box: box) == expected)
    }

    /// dlib's algorithm written plainly from the synthetic model's own data
    /// (not the parsed, flattened model): one tree at a time, leaves added as
    /// soon as they are found.
    static func referencePredict(_ m: SyntheticShapePredictor, _ image: GrayImage, _ box: Rect) -> [Point2] {
        var shape = m.initialShape
        let n = shape.count / 2
        func toImage(_ x: Float, _ y: Float) -> (Double, Double) {
            ((box.width - 1) * Double(x) + box.x, (box.height - 1) * Double(y) + box.y)
        }
        for (c, forest) in m.forests.enumerated() {
            var mfx = 0.0, mfy = 0.0, mtx = 0.0, mty = 0.0
            for i in 0..<n {
                mfx += Double(m.initialShape[2 * i]); mfy += Double(m.initialShape[2 * i + 1])
                mtx += Double(shape[2 * i]); mty += Double(shape[2 * i + 1])
            }
            mfx /= Double(n); mfy /= Double(n); mtx /= Double(n); mty /= Double(n)
            var sigma = 0.0, dot = 0.0, cross = 0.0
            for i in 0..<n {
                let fx = Double(m.initialShape[2 * i]) - mfx, fy = Double(m.initialShape[2 * i + 1]) - mfy
                let tx = Double(shape[2 * i]) - mtx, ty = Double(shape[2 * i + 1]) - mty
                sigma += fx * fx + fy * fy; dot += fx * tx + fy * ty; cross += fx * ty - fy * tx
            }
            let a = Float(dot / sigma), b = Float(cross / sigma)
            let features: [Float] = zip(m.anchors[c], m.deltas[c]).map { anchor, delta in
                let x = (a * delta.0 + -b * delta.1) + shape[2 * Int(anchor)]
                let y = (b * delta.0 + a * delta.1) + shape[2 * Int(anchor) + 1]
                let (ix, iy) = toImage(x, y)
                let px = (ix + 0.5).rounded(.down), py = (iy + 0.5).rounded(.down)
                guard px >= 0, py >= 0, px < Double(image.width), py < Double(image.height) else { return 0 }
                return Float(image.pixels[Int(py) * image.width + Int(px)])
            }
            for tree in forest {
                var i = 0
                while i < tree.splits.count {
                    let (i1, i2, t) = tree.splits[i]
                    i = features[Int(i1)] - features[Int(i2)] > t ? 2 * i + 1 : 2 * i + 2
                }
                let leaf = tree.leaves[i - tree.splits.count]
                for j in 0..<shape.count { shape[j] += leaf[j] }
            }
        }
        return (0..<n).map { i in
            let (x, y) = toImage(shape[2 * i], shape[2 * i + 1])
            return Point2(x: x, y: y)
        }
    }

    @Test("optimised inference equals a plain implementation of dlib's algorithm", arguments: [5, 7])
    func matchesReference(parts: Int) throws {
        // 5 parts takes the in-register path, 7 the general one.
        let synthetic = SyntheticShapePredictor(parts: parts, cascades: 4, trees: 30, depth: 3, features: 50, seed: UInt64(parts))
        let predictor = try ShapePredictor(serialized: synthetic.serialized)
        let image = Self.noiseImage(width: 90, height: 70, seed: 9)
        for box in [Rect(x: 10, y: 5, width: 50, height: 50), Rect(x: -20, y: 30, width: 70, height: 61), Rect(x: 33.5, y: 2.25, width: 20, height: 31)] {
            #expect(predictor.predictSubpixel(image, box: box) == Self.referencePredict(synthetic, image, box))
        }
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
