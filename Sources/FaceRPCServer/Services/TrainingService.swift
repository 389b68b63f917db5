import FaceRPCCore
import FaceRPCEngine
import FaceRPCProtos
import FaceRPCRegistry
import FaceRPCTraining
import Foundation

/// `/facerpc.v1.Training/*`: starts, watches, cancels and reports training
/// jobs run by a ``TrainingJobManager``.
///
/// Without a manager (the server was started without `--data-root`), Start
/// answers FAILED_PRECONDITION saying how to turn training on, and calls
/// naming a job answer NOT_FOUND: there are no jobs.
public struct TrainingService: RPCService {
    let jobs: TrainingJobManager?
    /// Kernel threads a request that names none gets.
    let defaultThreads: Int

    public init(manager: TrainingJobManager?, defaultThreads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.jobs = manager
        self.defaultThreads = max(1, defaultThreads)
    }

    static let offMessage = "training is off: start the server with --data-root DIR (and --state-dir DIR)"

    var manager: TrainingJobManager {
        get throws(RPCError) {
            guard let jobs else { throw RPCError(code: .failedPrecondition, message: Self.offMessage) }
            return jobs
        }
    }

    func manager(for jobID: String) throws(RPCError) -> TrainingJobManager {
        guard let jobs else {
            throw .notFound((jobID.isEmpty ? "no training job" : "no training job '\(jobID)'") + "; " + Self.offMessage)
        }
        return jobs
    }

    public func register(into router: inout Router) {
        router.register(Methods.trainStart, .unary { _, payload throws(RPCError) in
            let request = try decode(TrainRequest.self, payload)
            let spec = try self.spec(from: request)
            let manager = try self.manager
            return try mapErrors { TrainStatus(try manager.start(spec)).serializedBytes() }
        })
        router.register(Methods.trainStatus, .inlineUnary { _, payload throws(RPCError) in
            let request = try decode(TrainJobRequest.self, payload)
            let manager = try self.manager(for: request.jobID)
            return try mapErrors { TrainStatus(try manager.status(jobID: request.jobID)).serializedBytes() }
        })
        router.register(Methods.trainCancel, .inlineUnary { _, payload throws(RPCError) in
            let request = try decode(TrainJobRequest.self, payload)
            let manager = try self.manager(for: request.jobID)
            return try mapErrors { TrainStatus(try manager.cancel(jobID: request.jobID)).serializedBytes() }
        })
        router.register(Methods.trainReport, .unary { _, payload throws(RPCError) in
            let request = try decode(TrainJobRequest.self, payload)
            let manager = try self.manager(for: request.jobID)
            return try mapErrors { TrainReport(try manager.report(jobID: request.jobID)).serializedBytes() }
        })
        router.register(Methods.trainWatch, .serverStreaming { context, payload, writer throws(RPCError) in
            let request = try decode(TrainJobRequest.self, payload)
            let manager = try self.manager(for: request.jobID)
            let updates = try mapErrors { try manager.watch(jobID: request.jobID) }
            for await progress in updates {
                try await writer.send(TrainStatus(progress).serializedBytes())
                try context.checkAlive()
            }
            try context.checkAlive()
        })
    }

    /// A TrainRequest with the seed's defaults filled in for zero fields.
    func spec(from request: TrainRequest) throws(RPCError) -> TrainingJobSpec {
        let task: TrainingTask
        switch request.task {
        case .age: task = .age
        case .gender: task = .gender
        case .unspecified: throw .invalidArgument("task is required: TRAIN_TASK_AGE or TRAIN_TASK_GENDER")
        case .unrecognized(let n): throw .invalidArgument("unknown task \(n)")
        }
        var h = Hyperparameters()
        switch request.optimizer {
        case .unspecified, .momentum: h.optimizer = .momentum
        case .adadelta: h.optimizer = .adadelta
        case .adam: h.optimizer = .adam
        case .unrecognized(let n): throw .invalidArgument("unknown optimizer \(n)")
        }
        if request.learningRate != 0 { h.learningRate = request.learningRate }
        if request.lrDecayRate != 0 { h.lrDecayRate = request.lrDecayRate }
        if request.lrDecaySteps != 0 { h.lrDecaySteps = Int(request.lrDecaySteps) }
        if request.momentum != 0 { h.momentum = request.momentum }
        if request.weightDecay != 0 { h.weightDecay = request.weightDecay }
        if request.clipNorm != 0 { h.clipNorm = request.clipNorm }
        if request.dropout != 0 { h.dropout = request.dropout }
        let spec = TrainingJobSpec(
            task: task, data: request.data,
            validationData: request.validationData.isEmpty ? nil : request.validationData,
            validationFraction: request.validationFraction == 0 ? TrainingJobSpec.Defaults.validationFraction : Double(request.validationFraction),
            hyperparameters: h,
            steps: request.steps == 0 ? nil : Int(request.steps),
            epochs: request.epochs == 0 ? nil : Int(request.epochs),
            batchSize: request.batchSize == 0 ? TrainingJobSpec.Defaults.batchSize : Int(request.batchSize),
            checkpointEvery: request.checkpointEvery == 0 ? TrainingJobSpec.Defaults.checkpointEvery : Int(request.checkpointEvery),
            modelName: request.modelName.isEmpty ? nil : request.modelName,
            promote: request.promote,
            seed: request.seed,
            threads: request.threads == 0 ? defaultThreads : Int(request.threads))
        return spec
    }
}

/// Training errors as status codes: bad requests and paths are the caller's
/// (INVALID_ARGUMENT, NOT_FOUND), a busy trainer or an unfinished report are
/// FAILED_PRECONDITION, as the issue and gRPC's code guide ask.
private func mapErrors<T>(_ body: () throws -> T) throws(RPCError) -> T {
    do {
        return try body()
    } catch let error as RPCError {
        throw error
    } catch let error as TrainingJobError {
        switch error {
        case .invalidArgument(let m): throw .invalidArgument(m)
        case .busy, .notFinished, .unavailable: throw RPCError(code: .failedPrecondition, message: error.description)
        case .notFound: throw .notFound(error.description)
        }
    } catch let error as TrainingDataError {
        throw RPCError(code: error.statusCode, message: error.description)
    } catch {
        throw .internalError("\(error)", cause: error)
    }
}

/// Registers trained networks in the model registry under the trainable
/// model's manifest (227×227 RGB, Levi-Hassner normalisation, bucket labels).
public struct RegistryTrainedModelPublisher: TrainedModelPublisher {
    let registry: ModelRegistry

    public init(registry: ModelRegistry) { self.registry = registry }

    public func publish(name: String, task: TrainingTask, graph: Graph, promote: Bool) throws -> String {
        let template = task == .age ? TrainableModels.ageName : TrainableModels.genderName
        var manifest = TrainableModels.manifest(for: template)!
        manifest.name = name
        return try registry.register(name: name, manifest: manifest, graph: graph, promote: promote).version
    }
}

extension TrainStatus {
    init(_ p: TrainingProgress) {
        self.init()
        jobID = p.jobID
        model = p.model
        switch p.state {
        case .queued: state = .queued
        case .running: state = .running
        case .succeeded: state = .succeeded
        case .failed: state = .failed
        case .cancelled: state = .cancelled
        }
        step = UInt64(p.step)
        totalSteps = UInt64(p.totalSteps)
        epoch = UInt32(clamping: p.epoch)
        loss = p.loss
        lossAvg = p.lossAverage
        trainAccuracy = p.trainAccuracy
        valAccuracy = p.valAccuracy
        learningRate = p.learningRate
        examplesPerSecond = p.examplesPerSecond
        etaSeconds = p.etaSeconds
        checkpoint = p.checkpoint
        error = p.error
        version = p.version
    }
}

extension TrainReport {
    init(_ r: TrainingReport) {
        self.init()
        status = TrainStatus(r.progress)
        task = r.task == .age ? .age : .gender
        let e = r.evaluation
        examples = UInt32(clamping: e.examples)
        accuracy = Float(e.accuracy)
        oneOffAccuracy = r.task == .age ? Float(e.oneOffAccuracy) : 0
        labels = e.labels
        confusion = e.confusion.flatMap { $0.map { UInt32(clamping: $0) } }
        classes = e.classes.map { c in
            var m = ClassMetrics()
            m.label = c.label
            m.precision = Float(c.precision)
            m.recall = Float(c.recall)
            m.f1 = Float(c.f1)
            m.support = UInt32(clamping: c.support)
            return m
        }
        macroF1 = Float(e.macroF1)
        baselineAccuracy = Float(e.baselineAccuracy)
        curve = r.curve.map { p in
            var point = TrainCurvePoint()
            point.step = UInt64(p.step)
            point.loss = p.loss
            point.lossAvg = p.lossAverage
            point.trainAccuracy = p.trainAccuracy
            point.valAccuracy = p.valAccuracy ?? 0
            point.learningRate = p.learningRate
            point.epoch = UInt32(clamping: p.epoch)
            return point
        }
    }
}
