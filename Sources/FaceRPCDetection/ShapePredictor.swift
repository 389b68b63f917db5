import FaceRPCImage

/// dlib's cascaded-regression-tree landmark predictor (Kazemi & Sullivan,
/// "One Millisecond Face Alignment with an Ensemble of Regression Trees"),
/// loaded from dlib's own `.dat` files and reproducing dlib's arithmetic so
/// that its output equals dlib's `shape_predictor` point for point.
///
/// With `shape_predictor_5_face_landmarks.dat` the five points are, in order:
/// the outer and the inner corner of the subject's left eye (on the image's
/// right), the outer and the inner corner of the subject's right eye, and
/// the base of the nose (see docs/LANDMARKS.md).
///
/// ## Box convention
/// A ``Rect`` `(x, y, width, height)` is dlib's `rectangle(left: x, top: y,
/// right: x + width - 1, bottom: y + height - 1)`: dlib rectangles are
/// inclusive, so dlib's `width()` is `right - left + 1`, the same number as
/// ``Rect/width``. To run on a dlib box, pass
/// `Rect(x: left, y: top, width: right - left + 1, height: bottom - top + 1)`.
/// Non-integer boxes are used as they are (dlib's boxes are always integers).
///
/// Thread safety: immutable after `init`; `predict` may run concurrently.
public final class ShapePredictor: Sendable {
    let model: ShapePredictorModel

    /// Number of landmarks each prediction returns (5 for the 5-point model).
    public var numParts: Int { model.numParts }

    /// Loads a dlib `shape_predictor` file (for instance `shape_predictor_5_face_landmarks.dat`).
    ///
    /// - Throws: ``DlibDeserializationError`` when the file cannot be read, is
    ///   larger than ``ShapePredictorLimits/maxFileBytes``, or is not a valid
    ///   version-1 shape predictor (truncated, corrupt, counts above
    ///   ``ShapePredictorLimits``, inconsistent sizes or indices).
    public convenience init(path: String) throws {
        let bytes = try ShapePredictorModel.readFile(path: path)
        try self.init(serialized: bytes)
    }

    /// Parses a shape predictor from the bytes of a dlib `.dat` file.
    ///
    /// - Throws: ``DlibDeserializationError`` as ``init(path:)`` does.
    public init(serialized bytes: [UInt8]) throws {
        guard bytes.count <= ShapePredictorLimits.maxFileBytes else {
            throw DlibDeserializationError(.limitExceeded, offset: 0, "\(bytes.count) bytes, above the limit of \(ShapePredictorLimits.maxFileBytes)")
        }
        self.model = try bytes.withUnsafeBytes { buffer throws(DlibDeserializationError) in
            try ShapePredictorModel(dlibBytes: buffer)
        }
    }

    /// Predicts the landmarks of the object in `box`, exactly as dlib's
    /// `shape_predictor::operator()` does: the points are rounded to whole
    /// pixels (dlib returns `dlib::point`, rounding with `floor(v + 0.5)`).
    ///
    /// - Parameters:
    ///   - image: the grayscale image dlib would see (see ``GrayImage/init(dlibGrayscaleOf:)``).
    ///   - box: the face box, see "Box convention" above. It may extend past
    ///     the image; pixels outside read as 0, as in dlib.
    /// - Returns: ``numParts`` points in image pixel coordinates. A box with a
    ///   non-finite coordinate gives non-finite points.
    public func predict(_ image: GrayImage, box: Rect) -> [Point2] {
        predictSubpixel(image, box: box).map {
            Point2(x: ($0.x + 0.5).rounded(.down), y: ($0.y + 0.5).rounded(.down))
        }
    }

    /// Like ``predict(_:box:)`` but without the final rounding: the cascade's
    /// shape mapped to image coordinates as `Double`s. dlib's result is these
    /// values rounded to the nearest integer.
    public func predictSubpixel(_ image: GrayImage, box: Rect) -> [Point2] {
        let shape = unitSquareShape(image, box: box)
        let map = BoxMap(box)
        var points = [Point2]()
        points.reserveCapacity(model.numParts)
        for part in 0..<model.numParts {
            points.append(map.apply(shape[2 * part], shape[2 * part + 1]))
        }
        return points
    }

    /// Runs the cascade and returns the shape in the box's unit square
    /// ((0, 0) is the box's top-left pixel, (1, 1) its bottom-right pixel),
    /// x and y interleaved, in dlib's float arithmetic.
    func unitSquareShape(_ image: GrayImage, box: Rect) -> [Float] {
        let model = self.model
        let shapeLength = model.shapeLength
        var shape = model.initialShape
        let map = BoxMap(box)
        let width = image.width
        let widthLimit = Double(image.width)
        let heightLimit = Double(image.height)

        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, model.maxFeatureCount)) { features in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, model.maxTreeCount)) { leafOffsets in
            image.pixels.withUnsafeBufferPointer { pixels in
            model.initialShape.withUnsafeBufferPointer { initial in
            model.anchors.withUnsafeBufferPointer { anchors in
            model.deltas.withUnsafeBufferPointer { deltas in
            model.trees.withUnsafeBufferPointer { trees in
            model.splits.withUnsafeBufferPointer { splits in
            model.leafValues.withUnsafeBufferPointer { leafValues in
            shape.withUnsafeMutableBufferPointer { current in
                for cascade in model.cascades {
                    // Feature pixels are stored relative to the mean shape;
                    // move them with the similarity that takes the mean shape
                    // to the current estimate (dlib: find_tform_between_shapes,
                    // whose 2x2 part is cast to float).
                    let m = similarityMatrix(from: initial, to: UnsafeBufferPointer(current))
                    for k in 0..<cascade.featureCount {
                        let f = cascade.featureStart + k
                        let anchor = Int(anchors[f])
                        let dx = deltas[2 * f], dy = deltas[2 * f + 1]
                        let ux = (m.m00 * dx + m.m01 * dy) + current[2 * anchor]
                        let uy = (m.m10 * dx + m.m11 * dy) + current[2 * anchor + 1]
                        let p = map.apply(ux, uy)
                        // dlib converts to an integer point with floor(v + 0.5)
                        // and reads 0 outside the image. The comparisons are
                        // false for NaN, so a bad box never reaches Int().
                        let px = (p.x + 0.5).rounded(.down)
                        let py = (p.y + 0.5).rounded(.down)
                        if px >= 0, px < widthLimit, py >= 0, py < heightLimit {
                            features[k] = Float(pixels[Int(py) * width + Int(px)])
                        } else {
                            features[k] = 0
                        }
                    }
                    // All trees of a stage read the same features, so find every
                    // leaf first, then add the leaves in tree order (dlib's
                    // order, which float addition needs). Split from the walk,
                    // the leaf loads (4.8 MB of leaves: mostly cache misses)
                    // are independent and predictable, and a mispredicted
                    // split no longer discards them.
                    var slot = 0
                    for t in cascade.treeStart..<cascade.treeEnd {
                        let tree = trees[t]
                        // Trees are complete, so walking `depth` levels is
                        // dlib's `while (i < splits.size())`. A plain branch
                        // measured faster than branch-free selects (and than 8
                        // interleaved walks, which LLVM turns into AVX-512
                        // gathers): speculation runs ahead into the next trees
                        // instead of waiting on each level's chain of loads.
                        var node = 0
                        for _ in 0..<tree.depth {
                            let split = splits[tree.splitStart &+ node]
                            let left = features[Int(split.idx1)] - features[Int(split.idx2)] > split.threshold
                            node = left ? 2 &* node &+ 1 : 2 &* node &+ 2
                        }
                        leafOffsets[slot] = tree.leafStart &+ (node &- tree.splitCount) &* shapeLength
                        slot &+= 1
                    }
                    if shapeLength == 10, let leafBase = leafValues.baseAddress {
                        // The 5-point model: keep the shape in registers for
                        // the whole stage instead of a load and store per
                        // leaf. Lane-wise adds in the same order, so the same
                        // floats as the loop below.
                        let raw = UnsafeRawPointer(leafBase)
                        let stride = MemoryLayout<Float>.stride
                        var head = SIMD8<Float>(current[0..<8])
                        var tail = SIMD2<Float>(current[8], current[9])
                        for k in 0..<slot {
                            let byteOffset = leafOffsets[k] &* stride
                            head += raw.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float>.self)
                            tail += raw.loadUnaligned(fromByteOffset: byteOffset &+ 8 &* stride, as: SIMD2<Float>.self)
                        }
                        for j in 0..<8 { current[j] = head[j] }
                        current[8] = tail[0]
                        current[9] = tail[1]
                    } else {
                        for k in 0..<slot {
                            let leaf = leafOffsets[k]
                            for j in 0..<shapeLength {
                                current[j] += leafValues[leaf &+ j]
                            }
                        }
                    }
                }
            }
            }
            }
            }
            }
            }
            }
            }
        }
        }
        return shape
    }
}

/// dlib's `unnormalizing_tform(rect)`: (0, 0) to the box's top-left pixel and
/// (1, 1) to its bottom-right pixel, in double precision.
struct BoxMap {
    var left: Double
    var top: Double
    /// dlib's `right - left` and `bottom - top` (one less than the inclusive width and height).
    var spanX: Double
    var spanY: Double

    init(_ box: Rect) {
        left = box.x
        top = box.y
        spanX = box.width - 1
        spanY = box.height - 1
    }

    @inline(__always)
    func apply(_ x: Float, _ y: Float) -> Point2 {
        Point2(x: spanX * Double(x) + left, y: spanY * Double(y) + top)
    }
}

/// The linear part of the least-squares similarity transform taking shape
/// `from` to shape `to`, as floats.
struct SimilarityMatrix {
    var m00: Float, m01: Float, m10: Float, m11: Float
}

/// dlib fits the similarity with Umeyama's method (an SVD of the 2x2
/// cross-covariance). In 2-D the optimum over rotations and scales has the
/// closed form `[a -b; b a]` with `a = (cov00 + cov11) / sigma`,
/// `b = (cov10 - cov01) / sigma`; it is the same minimiser, also when the
/// covariance has a negative determinant, and differs from dlib's SVD only in
/// the last bits of a double, which the cast to float absorbs.
@inline(__always)
func similarityMatrix(from: UnsafeBufferPointer<Float>, to: UnsafeBufferPointer<Float>) -> SimilarityMatrix {
    let n = from.count / 2
    var meanFromX = 0.0, meanFromY = 0.0, meanToX = 0.0, meanToY = 0.0
    for i in 0..<n {
        meanFromX += Double(from[2 * i]); meanFromY += Double(from[2 * i + 1])
        meanToX += Double(to[2 * i]); meanToY += Double(to[2 * i + 1])
    }
    let count = Double(n)
    meanFromX /= count; meanFromY /= count; meanToX /= count; meanToY /= count
    var sigmaFrom = 0.0
    var dot = 0.0, cross = 0.0
    for i in 0..<n {
        let fx = Double(from[2 * i]) - meanFromX, fy = Double(from[2 * i + 1]) - meanFromY
        let tx = Double(to[2 * i]) - meanToX, ty = Double(to[2 * i + 1]) - meanToY
        sigmaFrom += fx * fx + fy * fy
        dot += tx * fx + ty * fy
        cross += ty * fx - tx * fy
    }
    // dlib uses an identity transform for a single landmark and c = 1 for a
    // degenerate mean shape; both leave the deltas as they are.
    guard n > 1, sigmaFrom != 0 else {
        return SimilarityMatrix(m00: 1, m01: 0, m10: 0, m11: 1)
    }
    let a = dot / sigmaFrom
    let b = cross / sigmaFrom
    return SimilarityMatrix(m00: Float(a), m01: Float(-b), m10: Float(b), m11: Float(a))
}
