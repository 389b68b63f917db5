import Dispatch
import FaceRPCEngine
import FaceRPCKernels
import FaceRPCImage
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// A face found by ``FaceDetector``.
public struct DetectedFace: Sendable, Equatable {
    /// The face box in image pixels, clamped to the image
    /// (`x` and `x + width` within `0...width - 1`, likewise for y).
    public var box: Rect
    /// O-net's face probability, 0...1.
    public var score: Float
    /// Five points in image pixels, in this order: left eye, right eye, nose,
    /// left mouth corner, right mouth corner ("left" is the image's left, i.e.
    /// the person's right). Not clamped: a point may lie outside the image.
    public var landmarks: [Point2]

    public init(box: Rect, score: Float, landmarks: [Point2]) {
        self.box = box; self.score = score; self.landmarks = landmarks
    }
}

/// Why detection or loading failed.
public struct FaceDetectorError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Bounds that keep one ``FaceDetector/detect(_:minFaceSize:thresholds:)``
/// call's memory and time in check whatever the image.
public enum MTCNNLimits {
    /// Largest accepted image side, in pixels.
    public static let maxImageSide = 16384
    /// Largest accepted image area. The detector keeps a normalised float
    /// copy (12 bytes a pixel), so this bounds that copy at 360 MB.
    public static let maxImagePixels = 30_000_000
    /// `minFaceSize` must lie in this range (pixels). Below 12 the pyramid
    /// upsamples; the lower bound keeps that to 2x.
    public static let faceSizeRange: ClosedRange<Double> = 6...100_000
    /// Most pyramid levels P-net runs (the smallest levels are dropped first).
    public static let maxPyramidLevels = 16
    /// Pyramid levels with more pixels than this are skipped, so on a very
    /// large photo the smallest detectable face grows instead of P-net's
    /// workspace (about 25 floats per level pixel).
    public static let maxLevelPixels = 1_500_000
    /// Highest-scored P-net cells kept per level before NMS (NMS is O(n²)).
    public static let maxProposalsPerLevel = 2000
    /// Highest-scored candidates R-net examines (one batch).
    public static let maxRNetCandidates = 1000
    /// Highest-scored candidates O-net examines (one batch).
    public static let maxONetCandidates = 250
}

/// MTCNN face detector (Zhang et al. 2016) running on FaceRPCEngine, with the
/// weights and the pipeline of the mtcnn 1.0.0 Python package: an image
/// pyramid (factor 0.709, first scale 12 / minFaceSize) through P-net, NMS,
/// R-net on 24x24 patches, O-net on 48x48 patches with 5 landmarks.
/// docs/DETECTION.md describes each step and where it departs from the
/// package (only in the limits of ``MTCNNLimits``).
///
/// Thread-safe: `detect` may be called concurrently.
public final class FaceDetector: Sendable {
    private let pnet: MTCNNNet
    /// P-net fused for speed; nil (and P-net runs on ``Network``) when the
    /// stage's graph is not the standard architecture.
    private let pnetRunner: PNetRunner?
    private let rnet: Network
    private let onet: Network
    /// R- and O-net with 16 candidates per vector; nil (and the stage runs
    /// on ``Network``) when its graph is not the standard architecture.
    private let rnetRunner: CandidateNetRunner?
    private let onetRunner: CandidateNetRunner?
    let mean: Float
    let scale: Float
    /// Threads each network run uses.
    public let threads: Int

    /// Loads `modelsDirectory/mtcnn-{pnet,rnet,onet}` (detector.json plus the
    /// ONNX file it names, checked against its SHA-256) as written by
    /// scripts/convert-mtcnn.py.
    ///
    /// - Parameter threads: threads per network run (clamped to 1...64).
    /// - Throws: ``FaceDetectorError`` naming the file when a manifest or
    ///   network is missing, malformed or not the expected MTCNN stage.
    public init(modelsDirectory: String, threads: Int) throws {
        let p = try MTCNNNet.load(stage: .pnet, modelsDirectory: modelsDirectory)
        let r = try MTCNNNet.load(stage: .rnet, modelsDirectory: modelsDirectory)
        let o = try MTCNNNet.load(stage: .onet, modelsDirectory: modelsDirectory)
        guard p.mean == r.mean, p.mean == o.mean, p.scale == r.scale, p.scale == o.scale else {
            throw FaceDetectorError("the three MTCNN stages declare different input normalisations")
        }
        self.threads = min(max(threads, 1), 64)
        pnet = p
        pnetRunner = PNetRunner(graph: p.graph)
        rnet = try Network(graph: r.graph, threads: self.threads)
        onet = try Network(graph: o.graph, threads: self.threads)
        rnetRunner = CandidateNetRunner(graph: r.graph)
        onetRunner = CandidateNetRunner(graph: o.graph)
        mean = p.mean
        scale = p.scale
    }

    /// Finds faces and their 5 landmarks.
    ///
    /// - Parameters:
    ///   - image: RGB, 1...``MTCNNLimits/maxImageSide`` pixels a side and at
    ///     most ``MTCNNLimits/maxImagePixels`` pixels.
    ///   - minFaceSize: smallest face side to look for, in pixels
    ///     (``MTCNNLimits/faceSizeRange``); smaller is slower.
    ///   - thresholds: face-probability thresholds of P-, R- and O-net, each
    ///     in 0...1; a candidate must score strictly above them. (The
    ///     package's own default for O-net is 0.8.)
    /// - Returns: faces by descending score; empty when there are none or the
    ///   image is too small (under about 17 pixels a side) to search.
    /// - Throws: ``FaceDetectorError`` on invalid arguments, or when a
    ///   network run fails.
    public func detect(_ image: RGBImage, minFaceSize: Double = 20,
                       thresholds: (Float, Float, Float) = (0.6, 0.7, 0.7)) throws -> [DetectedFace] {
        guard image.width >= 1, image.height >= 1,
              image.width <= MTCNNLimits.maxImageSide, image.height <= MTCNNLimits.maxImageSide else {
            throw FaceDetectorError("image is \(image.width)x\(image.height); each side must be 1...\(MTCNNLimits.maxImageSide)")
        }
        guard image.width * image.height <= MTCNNLimits.maxImagePixels else {
            throw FaceDetectorError("image is \(image.width)x\(image.height), over the limit of \(MTCNNLimits.maxImagePixels) pixels")
        }
        guard minFaceSize.isFinite, MTCNNLimits.faceSizeRange.contains(minFaceSize) else {
            throw FaceDetectorError("minFaceSize \(minFaceSize) is outside \(MTCNNLimits.faceSizeRange)")
        }
        for t in [thresholds.0, thresholds.1, thresholds.2] where !(t >= 0 && t <= 1) {
            throw FaceDetectorError("threshold \(t) is outside 0...1")
        }
        let planar = PlanarImage(image, mean: mean, scale: scale)
        var boxes = try proposals(planar, minFaceSize: minFaceSize, threshold: thresholds.0)
        if boxes.isEmpty { return [] }
        boxes = try refine(planar, boxes, threshold: thresholds.1)
        if boxes.isEmpty { return [] }
        boxes = try output(planar, boxes, threshold: thresholds.2)
        let maxX = Double(image.width - 1), maxY = Double(image.height - 1)
        return boxes.map { b in
            let x1 = min(max(b.x1, 0), maxX), x2 = min(max(b.x2, 0), maxX)
            let y1 = min(max(b.y1, 0), maxY), y2 = min(max(b.y2, 0), maxY)
            let points = (0..<5).map { Point2(x: b.landmarks[$0], y: b.landmarks[5 + $0]) }
            return DetectedFace(box: Rect(x: x1, y: y1, width: x2 - x1, height: y2 - y1), score: Float(b.score),
                                landmarks: points)
        }
    }

    // MARK: Stages

    /// The package's pyramid: `12 / minFaceSize * 0.709^i` for
    /// `i < round(log(minSide / 12) / log(1 / 0.709) - 1)` (the count ignores
    /// `minFaceSize`, as the package's does).
    static func pyramidScales(width: Int, height: Int, minFaceSize: Double) -> [Double] {
        let factor = 0.709
        let count = (-((log(Double(min(width, height)) / 12) / log(factor)) + 1)).rounded(.toNearestOrEven)
        guard count >= 1 else { return [] }
        let first = 12 / minFaceSize
        return (0..<Int(min(count, 64))).map { first * pow(factor, Double($0)) }
    }

    /// P-net over the pyramid: per-level proposals, NMS 0.5 per level, NMS 0.7
    /// over all, squared.
    func proposals(_ image: PlanarImage, minFaceSize: Double, threshold: Float) throws -> [CandidateBox] {
        var levels: [(scale: Double, width: Int, height: Int)] = []
        for s in Self.pyramidScales(width: image.width, height: image.height, minFaceSize: minFaceSize) {
            let w = Int(Double(image.width) * s), h = Int(Double(image.height) * s)
            // P-net needs 12x12; the package would fail on smaller levels.
            guard min(w, h) >= 12, w * h <= MTCNNLimits.maxLevelPixels else { continue }
            levels.append((s, w, h))
        }
        levels = Array(levels.prefix(MTCNNLimits.maxPyramidLevels))
        var all: [CandidateBox] = []
        let workers = min(threads, levels.count)
        if workers <= 1 {
            let outputs = try runPNet(image, levels: levels, threads: threads)
            for (level, out) in zip(levels, outputs) {
                all += levelProposals(out, scale: level.scale, threshold: threshold)
            }
        } else {
            // Levels are independent and mostly too small to split well across
            // threads, so each worker runs whole levels single-threaded. Level 0
            // is about half the pyramid's pixels: assign largest first to the
            // least-loaded worker.
            var assignment = [[Int]](repeating: [], count: workers)
            var load = [Int](repeating: 0, count: workers)
            for (i, level) in levels.enumerated() {
                let w = load.indices.min { load[$0] < load[$1] }!
                assignment[w].append(i)
                load[w] += level.width * level.height
            }
            let results = LevelResults(count: levels.count)
            let plan = assignment, chosen = levels
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let mine = plan[w].map { chosen[$0] }
                do {
                    let outputs = try runPNet(image, levels: mine, threads: 1)
                    for (i, out) in zip(plan[w], outputs) {
                        results.set(i, .success(levelProposals(out, scale: chosen[i].scale, threshold: threshold)))
                    }
                } catch {
                    for i in plan[w] { results.set(i, .failure(error)) }
                }
            }
            // Concatenated in level order, as the sequential path does.
            for result in results.take() { all += try result!.get() }
        }
        let merged = BoxOps.suppress(BoxOps.sortedByScore(all), threshold: 0.7, measure: .union)
        return BoxOps.squared(merged)
    }

    /// One pyramid level through P-net: boxes above `threshold`, sorted,
    /// capped, NMS 0.5.
    private func levelProposals(_ pnetOutput: (values: [Float], width: Int, height: Int), scale: Double,
                                threshold: Float) -> [CandidateBox] {
        let (out, ow, oh) = pnetOutput
        let plane = oh * ow
        var found: [CandidateBox] = []
        for y in 0..<oh {
            for x in 0..<ow {
                let i = y * ow + x
                let score = faceProbability(out[4 * plane + i], out[5 * plane + i])
                guard score > Double(threshold) else { continue }
                // Cell (x, y) covers pixels 2x+1 ... 2x+12 of the level (the package's convention).
                let left = Double(2 * x + 1), top = Double(2 * y + 1)
                let right = Double(2 * x + 12), bottom = Double(2 * y + 12)
                found.append(CandidateBox(
                    x1: (left + Double(out[i]) * 11) / scale,
                    y1: (top + Double(out[plane + i]) * 11) / scale,
                    x2: (right + Double(out[2 * plane + i]) * 11) / scale,
                    y2: (bottom + Double(out[3 * plane + i]) * 11) / scale,
                    score: score))
            }
        }
        found = Array(BoxOps.sortedByScore(found).prefix(MTCNNLimits.maxProposalsPerLevel))
        return BoxOps.suppress(found, threshold: 0.5, measure: .union)
    }

    /// The fused P-net, for tests.
    var pnetRunnerForTesting: PNetRunner? { pnetRunner }
    /// The lane-batched R- and O-net and their engine versions, for tests.
    var candidateNetsForTesting: [(runner: CandidateNetRunner?, network: Network)] {
        [(rnetRunner, rnet), (onetRunner, onet)]
    }

    /// P-net on `image` area-resized to each level's size: `[6][oh][ow]` each.
    /// The fused runner gets all its levels from one sweep over the image.
    func runPNet(_ image: PlanarImage, levels: [(scale: Double, width: Int, height: Int)],
                 threads: Int) throws -> [(values: [Float], width: Int, height: Int)] {
        guard let runner = pnetRunner else {
            return try levels.map {
                try runPNetOnNetwork(DetectorResize.area(image, outWidth: $0.width, outHeight: $0.height), threads: threads)
            }
        }
        let resized = DetectorResize.areaPyramid(image, sizes: levels.map { ($0.width, $0.height) },
                                                 rowStride: PNetRunner.rowStride(width:))
        return zip(levels, resized).map { level, values in
            values.withUnsafeBufferPointer {
                runner.run(level: $0.baseAddress!, width: level.width, height: level.height,
                           rowStride: PNetRunner.rowStride(width: level.width))
            }
        }
    }

    /// P-net on a level through the generic ``Network``: the path for a
    /// non-standard P-net graph, and the reference ``PNetRunner`` is tested
    /// against. Plans per level (P-net has ~7k weights).
    func runPNetOnNetwork(_ level: PlanarImage, threads: Int) throws -> (values: [Float], width: Int, height: Int) {
        var graph = pnet.graph
        graph.inputShape = [3, level.height, level.width]
        let net = try Network(graph: graph, threads: threads)
        return (try net.run(level.values, batch: 1), net.outputShape[2], net.outputShape[1])
    }

    /// Candidates whose lanes fill less of a 16-lane block than this go to
    /// the engine instead: a block costs the same whether 1 or 16 candidates
    /// fill it, about as much as 8 candidates one by one on the engine.
    static let minimumLanesPerBlock = 8

    /// Runs R- or O-net on `count` patches: whole blocks of 16 (and a last
    /// block at least half full) with one candidate per lane, the few left
    /// over on the engine, whose cost grows with the candidates.
    func runCandidates(_ batch: [Float], count: Int, runner: CandidateNetRunner?, network: Network) throws -> [Float] {
        guard let runner else { return try network.run(batch, batch: count) }
        let lanes = LaneBatchedLayout.lanes
        let leftover = count % lanes
        let viaLanes = leftover >= Self.minimumLanesPerBlock ? count : count - leftover
        var out = viaLanes > 0 ? runner.run(batch, count: viaLanes, threads: threads) : []
        if viaLanes < count {
            let elements = network.inputShape.reduce(1, *)
            out += try network.run(Array(batch[(viaLanes * elements)..<(count * elements)]), batch: count - viaLanes)
        }
        return out
    }

    /// R-net on 24x24 patches of the squared proposals: rescored, regressed,
    /// thresholded, NMS 0.7, squared.
    func refine(_ image: PlanarImage, _ boxes: [CandidateBox], threshold: Float) throws -> [CandidateBox] {
        let candidates = Array(BoxOps.sortedByScore(boxes).prefix(MTCNNLimits.maxRNetCandidates))
        let size = MTCNNStage.rnet.inputSize
        var batch = [Float](repeating: 0, count: candidates.count * 3 * size * size)
        DetectorResize.patches(image, boxes: candidates, size: size, into: &batch)
        let out = try runCandidates(batch, count: candidates.count, runner: rnetRunner, network: rnet)
        var kept: [CandidateBox] = []
        for (n, box) in candidates.enumerated() {
            let o = n * 6
            var b = BoxOps.regressed(box, (out[o], out[o + 1], out[o + 2], out[o + 3]))
            b.score = faceProbability(out[o + 4], out[o + 5])
            if b.score > Double(threshold) { kept.append(b) }
        }
        let merged = BoxOps.suppress(BoxOps.sortedByScore(kept), threshold: 0.7, measure: .union)
        return BoxOps.squared(merged)
    }

    /// O-net on 48x48 patches: rescored, landmarks, regressed, thresholded,
    /// NMS 0.7 over the smaller box.
    func output(_ image: PlanarImage, _ boxes: [CandidateBox], threshold: Float) throws -> [CandidateBox] {
        let candidates = Array(BoxOps.sortedByScore(boxes).prefix(MTCNNLimits.maxONetCandidates))
        let size = MTCNNStage.onet.inputSize
        var batch = [Float](repeating: 0, count: candidates.count * 3 * size * size)
        DetectorResize.patches(image, boxes: candidates, size: size, into: &batch)
        let out = try runCandidates(batch, count: candidates.count, runner: onetRunner, network: onet)
        var kept: [CandidateBox] = []
        for (n, box) in candidates.enumerated() {
            let o = n * 16
            let score = faceProbability(out[o + 14], out[o + 15])
            guard score > Double(threshold) else { continue }
            // Landmarks are fractions of the O-net input box (inclusive size), offset by -1 as in the package.
            let w = box.x2 - box.x1 + 1, h = box.y2 - box.y1 + 1
            var marks = [Double](repeating: 0, count: 10)
            for k in 0..<5 {
                marks[k] = w * Double(out[o + 4 + k]) + box.x1 - 1
                marks[5 + k] = h * Double(out[o + 9 + k]) + box.y1 - 1
            }
            var b = BoxOps.regressed(box, (out[o], out[o + 1], out[o + 2], out[o + 3]))
            b.score = score
            b.landmarks = marks
            kept.append(b)
        }
        return BoxOps.suppress(BoxOps.sortedByScore(kept), threshold: 0.7, measure: .minimum)
    }
}

/// Per-level P-net results written by concurrent workers.
///
/// `@unchecked Sendable`: `slots` is only read or written while holding `lock`.
private final class LevelResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<[CandidateBox], any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: Result<[CandidateBox], any Error>) {
        lock.lock(); defer { lock.unlock() }
        slots[i] = result
    }

    func take() -> [Result<[CandidateBox], any Error>?] {
        lock.lock(); defer { lock.unlock() }
        return slots
    }
}

/// The face class of a 2-way softmax over (non-face, face) logits, in Double
/// (see ``CandidateBox/score``).
@inline(__always)
func faceProbability(_ nonFace: Float, _ face: Float) -> Double {
    let m = Double(max(nonFace, face))
    let e0 = exp(Double(nonFace) - m), e1 = exp(Double(face) - m)
    return e1 / (e0 + e1)
}
