#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// What a network is trained to predict.
public enum TrainingTask: String, Sendable, Codable, CaseIterable {
    case age, gender

    /// Output classes: the 8 Levi-Hassner age buckets, or male / female.
    public var classes: Int { self == .age ? 8 : 2 }
}

/// The update rule applied to the (decayed, clipped) gradients.
public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
    /// `v = momentum·v + g; w -= lr·v` (TensorFlow's MomentumOptimizer).
    case momentum
    /// Zeiler's Adadelta as TensorFlow implements it, scaled by the learning rate.
    case adadelta
    /// Adam with TensorFlow's bias correction folded into the step size.
    case adam
}

/// Seed defaults. Every field can be overridden by a TrainRequest.
public struct Hyperparameters: Sendable, Codable, Equatable {
    public var optimizer: OptimizerKind = .momentum
    public var learningRate: Float = 0.01
    /// Staircase decay: `learningRate * lrDecayRate^(floor(step / lrDecaySteps))`.
    public var lrDecayRate: Float = 0.1
    /// Steps per decay; 0 or less turns decay off.
    public var lrDecaySteps: Int = 10_000
    public var momentum: Float = 0.9
    public var adadeltaRho: Float = 0.95
    public var adadeltaEpsilon: Float = 1e-6
    public var adamBeta1: Float = 0.9
    public var adamBeta2: Float = 0.999
    public var adamEpsilon: Float = 1e-8
    /// L2 on conv and fc weights (not biases): the loss gains
    /// `weightDecayScale * weightDecay * 0.5 * Σw²`.
    public var weightDecay: Float = 0.0005
    /// The seed trainer's LAMBDA.
    public var weightDecayScale: Float = 0.01
    /// Global gradient norm limit; 0 turns clipping off.
    public var clipNorm: Float = 4
    /// Dropout probability after fc6 and fc7 (inverted dropout; 0 turns it off).
    public var dropout: Float = 0.5

    public init() {}

    /// The learning rate for the update that follows `step` updates (staircase decay).
    public func learningRate(atStep step: Int) -> Float {
        guard lrDecaySteps > 0 else { return learningRate }
        let exponent = Float(max(step, 0) / lrDecaySteps)
        return learningRate * powf(lrDecayRate, exponent)
    }
}

/// A named float tensor (parameters and optimizer slots in checkpoints).
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name; self.shape = shape; self.values = values
    }
}

/// Errors of the training core.
public enum TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A checkpoint does not fit the trainer: a missing or extra tensor name, a wrong shape or value count.
    case checkpointMismatch(String)

    public var description: String {
        switch self {
        case .checkpointMismatch(let why): return "checkpoint does not match the network: \(why)"
        }
    }
}
