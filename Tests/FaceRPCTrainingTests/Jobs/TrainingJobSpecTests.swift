import Testing
@testable import FaceRPCTraining

@Suite("Training job specs")
struct TrainingJobSpecTests {
    @Test("defaults are the seed trainer's")
    func defaults() throws {
        let spec = TrainingJobSpec(task: .age, data: "train.csv")
        #expect(spec.batchSize == 128 && spec.steps == 40_000 && spec.epochs == nil)
        #expect(spec.checkpointEvery == 1000 && spec.validationFraction == 0.2)
        #expect(spec.modelName == "lh-age")
        #expect(TrainingJobSpec(task: .gender, data: "x").modelName == "lh-gender")
        #expect(TrainingJobSpec(task: .gender, data: "x", epochs: 3).steps == nil)
        let h = spec.hyperparameters
        #expect(h.optimizer == .momentum && h.learningRate == 0.01 && h.momentum == 0.9)
        #expect(h.lrDecayRate == 0.1 && h.lrDecaySteps == 10_000 && h.weightDecay == 0.0005)
        #expect(h.clipNorm == 4 && h.dropout == 0.5 && h.adadeltaRho == 0.95 && h.adadeltaEpsilon == 1e-6)
        try spec.validate()
    }

    /// One bad value per case: (field named in the message, case label).
    static let badFields = [
        "data:empty", "batch_size:513", "batch_size:0", "steps:0", "steps:huge", "epochs:0",
        "validation_fraction:1", "validation_fraction:nan", "threads:0", "model_name:../etc", "model_name:Upper",
        "learning_rate:-1", "learning_rate:inf", "momentum:1", "dropout:1", "clip_norm:-1", "weight_decay:2",
        "checkpoint_every:0",
    ]

    static func spoil(_ spec: inout TrainingJobSpec, _ label: String) {
        switch label {
        case "data:empty": spec.data = ""
        case "batch_size:513": spec.batchSize = 513
        case "batch_size:0": spec.batchSize = 0
        case "steps:0": spec.steps = 0
        case "steps:huge": spec.steps = 10_000_001
        case "epochs:0": spec.steps = nil; spec.epochs = 0
        case "validation_fraction:1": spec.validationFraction = 1
        case "validation_fraction:nan": spec.validationFraction = .nan
        case "threads:0": spec.threads = 0
        case "model_name:../etc": spec.modelName = "../etc"
        case "model_name:Upper": spec.modelName = "Upper"
        case "learning_rate:-1": spec.hyperparameters.learningRate = -1
        case "learning_rate:inf": spec.hyperparameters.learningRate = .infinity
        case "momentum:1": spec.hyperparameters.momentum = 1
        case "dropout:1": spec.hyperparameters.dropout = 1
        case "clip_norm:-1": spec.hyperparameters.clipNorm = -1
        case "weight_decay:2": spec.hyperparameters.weightDecay = 2
        case "checkpoint_every:0": spec.checkpointEvery = 0
        default: Issue.record("unknown case \(label)")
        }
    }

    @Test("every out-of-range field is refused with a message naming it", arguments: badFields)
    func refusals(label: String) {
        var spec = TrainingJobSpec(task: .gender, data: "train.csv")
        Self.spoil(&spec, label)
        let field = String(label.split(separator: ":")[0])
        do {
            try spec.validate()
            Issue.record("\(label) accepted")
        } catch {
            guard case .invalidArgument(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains(field), "\(message)")
        }
    }
}
