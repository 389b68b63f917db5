// Placeholder with the contract's types until the trainer branch lands (its file replaces this one).
public enum TrainingTask: String, Sendable, Codable, CaseIterable {
    case age, gender
    public var classes: Int { self == .age ? 8 : 2 }
}

public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case momentum, adadelta, adam }

public struct Hyperparameters: Sendable, Codable, Equatable {
    public var optimizer: OptimizerKind = .momentum
    public var learningRate: Float = 0.01
    public var lrDecayRate: Float = 0.1
    public var lrDecaySteps: Int = 10_000
    public var momentum: Float = 0.9
    public var adadeltaRho: Float = 0.95
    public var adadeltaEpsilon: Float = 1e-6
    public var adamBeta1: Float = 0.9
    public var adamBeta2: Float = 0.999
    public var adamEpsilon: Float = 1e-8
    public var weightDecay: Float = 0.0005
    public var weightDecayScale: Float = 0.01
    public var clipNorm: Float = 4
    public var dropout: Float = 0.5
    public init() {}
    public func learningRate(atStep step: Int) -> Float {
        var lr = learningRate
        for _ in 0..<(step / max(1, lrDecaySteps)) { lr *= lrDecayRate }
        return lr
    }
}

public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]
    public init(name: String, shape: [Int], values: [Float]) { self.name = name; self.shape = shape; self.values = values }
}
