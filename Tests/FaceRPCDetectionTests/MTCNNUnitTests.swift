import FaceRPCImage
import Foundation
import Testing
@testable import FaceRPCDetection

/// Pieces of the detector that need no model files.
@Suite struct MTCNNUnitTests {
    func box(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ score: Double) -> CandidateBox {
        CandidateBox(x1: x1, y1: y1, x2: x2, y2: y2, score: score)
    }

    @Test func suppressionDropsBoxesOverlappingAnyEarlierBoxEvenASuppressedOne() {
        // B overlaps A (IoU 0.82), C overlaps B (0.82) but not A (0.67 < 0.7).
        // Greedy NMS would keep A and C; the package's rule keeps only A.
        let a = box(0, 0, 10, 10, 0.9), b = box(1, 0, 11, 10, 0.8), c = box(2, 0, 12, 10, 0.7)
        let kept = BoxOps.suppress([a, b, c], threshold: 0.7, measure: .union)
        #expect(kept == [a])
        let far = box(50, 50, 60, 60, 0.6)
        #expect(BoxOps.suppress([a, far], threshold: 0.5, measure: .union) == [a, far])
    }

    @Test func minimumMeasureSuppressesANestedBox() {
        let outer = box(0, 0, 20, 20, 0.9), inner = box(5, 5, 12, 12, 0.8)
        // IoU is 49 / 400, but over the smaller box it is 1.
        #expect(BoxOps.suppress([outer, inner], threshold: 0.7, measure: .union).count == 2)
        #expect(BoxOps.suppress([outer, inner], threshold: 0.7, measure: .minimum) == [outer])
    }

    @Test func squaringKeepsTheCentreAndUsesTheLongerSide() {
        let s = BoxOps.squared([box(10, 20, 20, 60, 0.5)])[0]
        #expect(s.width == 40 && s.height == 40)
        #expect((s.x1 + s.x2) / 2 == 15 && (s.y1 + s.y2) / 2 == 40)
    }

    @Test func regressionScalesOffsetsByTheInclusiveSize() {
        let r = BoxOps.regressed(box(0, 0, 9, 19, 0.5), (0.1, -0.1, 0.2, 0.5))
        #expect(abs(r.x1 - 1) < 1e-6 && abs(r.y1 + 2) < 1e-6 && abs(r.x2 - 11) < 1e-6 && abs(r.y2 - 29) < 1e-6)
    }

    @Test(arguments: [(10, 7), (500, 300), (7, 7), (13, 29), (100, 33)])
    func areaWeightsOfEveryOutputPixelSumToOne(inSize: Int, outSize: Int) {
        let w = AreaWeights(inSize: inSize, outSize: outSize)
        #expect(w.start.count == outSize)
        for o in 0..<outSize {
            let n = Int(w.count[o]), off = Int(w.offset[o])
            let sum = w.weights[off..<(off + n)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-4)
            #expect(Int(w.start[o]) + n <= inSize)
        }
    }

    @Test func areaResizeByTwoAveragesTwoByTwoBlocks() {
        var values = [Float](repeating: 0, count: 3 * 4 * 4)
        for i in values.indices { values[i] = Float(i % 16) + Float(i / 16) * 100 }
        let small = DetectorResize.area(PlanarImage(width: 4, height: 4, values: values), outWidth: 2, outHeight: 2)
        // Channel 0, top-left block: pixels 0, 1, 4, 5.
        #expect(abs(small.values[0] - 2.5) < 1e-5)
        // Channel 2, bottom-right block: 10, 11, 14, 15 plus 200.
        #expect(abs(small.values[2 * 4 + 3] - 212.5) < 1e-5)
    }

    @Test("the one-sweep pyramid is bit-identical to resizing level by level",
          arguments: [(97, 61), (200, 133), (31, 12), (12, 40)])
    func pyramidSweepMatchesLevelByLevel(width: Int, height: Int) {
        var values = [Float](repeating: 0, count: 3 * width * height)
        var state: UInt32 = 7
        for i in values.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            values[i] = Float(state >> 8) / Float(1 << 24) * 2 - 1
        }
        let image = PlanarImage(width: width, height: height, values: values)
        // Downscales by less and more than 3 (4-tap and general horizontal
        // loops), an upscale, a 1-pixel side and the image's own size.
        let sizes = [(width * 3 / 5, height * 3 / 5), (width / 4 + 1, height / 5 + 1), (width * 2, height + 3),
                     (1, height / 2 + 1), (width, height), (width / 2 + 1, 1)]
        let stride = { (w: Int) in w + 5 }
        let swept = DetectorResize.areaPyramid(image, sizes: sizes, rowStride: stride)
        #expect(swept.count == sizes.count)
        for (size, got) in zip(sizes, swept) {
            let expected = DetectorResize.area(image, outWidth: size.0, outHeight: size.1, rowStride: stride(size.0))
            let identical = got == expected
            #expect(identical, "\(width)x\(height) -> \(size.0)x\(size.1)")
        }
    }

    @Test func patchOfTheWholeImageAtItsOwnSizeReproducesIt() {
        let side = 24
        var values = [Float](repeating: 0, count: 3 * side * side)
        for i in values.indices { values[i] = Float((i * 7919) % 255) / 128 - 1 }
        let image = PlanarImage(width: side, height: side, values: values)
        // Normalised corners 0 and 1 map to pixel 0 and side - 1 (TensorFlow scales by size - 1).
        let whole = box(0, 0, Double(side), Double(side), 1)
        var patch = [Float](repeating: .nan, count: values.count)
        DetectorResize.patches(image, boxes: [whole], size: side, into: &patch)
        #expect(zip(patch, values).allSatisfy { abs($0 - $1) < 1e-5 })
        // A box entirely left of the image samples only outside: zeros.
        DetectorResize.patches(image, boxes: [box(-100, 0, -50, 24, 1)], size: side, into: &patch)
        #expect(patch.allSatisfy { $0 == 0 })
    }

    @Test func pyramidFollowsThePackageFormula() {
        let scales = FaceDetector.pyramidScales(width: 640, height: 480, minFaceSize: 20)
        // round(log(480 / 12) / log(1 / 0.709) - 1) = round(9.73) = 10 levels.
        #expect(scales.count == 10)
        #expect(abs(scales[0] - 0.6) < 1e-12)
        for i in 1..<scales.count { #expect(abs(scales[i] / scales[i - 1] - 0.709) < 1e-12) }
        #expect(FaceDetector.pyramidScales(width: 16, height: 400, minFaceSize: 20).isEmpty)
    }

    @Test func faceProbabilityIsTheSoftmaxFaceClass() {
        #expect(abs(faceProbability(0, 0) - 0.5) < 1e-12)
        #expect(abs(faceProbability(-1, 1) - 1 / (1 + exp(-2))) < 1e-12)
        #expect(faceProbability(-1000, 1000) == 1)
        // Strong faces stay ordered where float32 would round both to 1.
        #expect(faceProbability(-9, 9) < faceProbability(-10, 10))
    }

    @Test func missingModelsAreReportedWithTheirPath() {
        #expect {
            _ = try FaceDetector(modelsDirectory: "/nonexistent-models", threads: 1)
        } throws: { error in
            (error as? FaceDetectorError)?.message.contains("/nonexistent-models/mtcnn-pnet/detector.json") == true
        }
    }
}
