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

    @Test("every out-of-range field is refused with a message naming it", arguments: [
        ("data", { (s: inout TrainingJobSpec) in s.data = "" }),
        ("batch_size", { (s: inout TrainingJobSpec) in s.batchSize = 513 }),
        ("batch_size", { (s: inout TrainingJobSpec) in s.batchSize = 0 }),
        ("steps", { (s: inout TrainingJobSpec) in s.steps = 0 }),
        ("steps", { (s: inout TrainingJobSpec) in s.steps = 10_000_001 }),
        ("epochs", { (s: inout TrainingJobSpec) in s.steps = nil; s.epochs = 0 }),
        ("validation_fraction", { (s: inout TrainingJobSpec) in s.validationFraction = 1 }),
        ("validation_fraction", { (s: inout TrainingJobSpec) in s.validationFraction = .nan }),
        ("threads", { (s: inout TrainingJobSpec) in s.threads = 0 }),
        ("model_name", { (s: inout TrainingJobSpec) in s.modelName = "../etc" }),
        ("model_name", { (s: inout TrainingJobSpec) in s.modelName = "Upper" }),
        ("learning_rate", { (s: inout TrainingJobSpec) in s.hyperparameters.learningRate = -1 }),
        ("learning_rate", { (s: inout TrainingJobSpec) in s.hyperparameters.learningRate = .infinity }),
        ("momentum", { (s: inout TrainingJobSpec) in s.hyperparameters.momentum = 1 }),
        ("dropout", { (s: inout TrainingJobSpec) in s.hyperparameters.dropout = 1 }),
        ("clip_norm", { (s: inout TrainingJobSpec) in s.hyperparameters.clipNorm = -1 }),
        ("weight_decay", { (s: inout TrainingJobSpec) in s.hyperparameters.weightDecay = 2 }),
        ("checkpoint_every", { (s: inout TrainingJobSpec) in s.checkpointEvery = 0 }),
    ] as [(String, @Sendable (inout TrainingJobSpec) -> Void)])
    func refusals(field: String, change: @Sendable (inout TrainingJobSpec) -> Void) {
        var spec = TrainingJobSpec(task: .gender, data: "train.csv")
        change(&spec)
        do {
            try spec.validate()
            Issue.record("\(field) accepted")
        } catch {
            guard case .invalidArgument(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains(field), "\(message)")
        }
    }
}
