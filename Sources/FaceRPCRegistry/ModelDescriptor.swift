/// Where a model is in its life.
public enum ModelState: String, Sendable, Equatable {
    /// Being read, verified and compiled for the first time.
    case loading
    /// Answers predictions. A failed reload leaves a model serving its previous
    /// version, with the failure in ``ModelDescriptor/error``.
    case serving
    /// Failed to load, or no weights installed (the reason is in ``ModelDescriptor/error``).
    case unavailable
}

/// Answer of ``ModelRegistry/health(service:)``, following grpc.health.v1.
public enum HealthState: Sendable, Equatable {
    case serving
    case notServing
    /// No model of that name.
    case unknown
}

/// A model as ListModels reports it: identity, state and preprocessing.
public struct ModelDescriptor: Sendable, Equatable {
    public var name: String
    /// `nil` when model.json could not be read.
    public var task: ModelTask?
    public var architecture: String
    public var version: String
    public var format: WeightFormat?
    public var state: ModelState
    /// Why the model is not serving, or, while it serves, why the last reload
    /// failed; `nil` when all is well.
    public var error: String?
    /// Chip size in pixels.
    public var inputWidth: Int
    public var inputHeight: Int
    public var inputChannels: Int
    public var color: ColorOrder
    /// Class labels; empty when the model has none (e.g. an 81-way age model).
    public var labels: [String]
    /// Where the weights came from.
    public var source: String
    public var license: String
    /// Number of learned weights; 0 unless serving.
    public var parameters: Int
    /// Of the weights file; "" when unknown.
    public var sha256: String
    /// Per-channel mean subtracted from bytes; inputs are `(byte - mean) * scale`.
    public var mean: [Float]
    public var scale: Float
    /// Age models: expected years = Σ pᵢ · ageWeights[i]; empty otherwise.
    public var ageWeights: [Float]
    /// Fraction of the face box added on each side when cutting the chip.
    public var chipPadding: Float

    public init(name: String, task: ModelTask?, architecture: String, version: String, format: WeightFormat?,
                state: ModelState, error: String?, inputWidth: Int, inputHeight: Int, inputChannels: Int,
                color: ColorOrder, labels: [String], source: String, license: String, parameters: Int,
                sha256: String, mean: [Float], scale: Float, ageWeights: [Float], chipPadding: Float) {
        self.name = name; self.task = task; self.architecture = architecture; self.version = version
        self.format = format; self.state = state; self.error = error
        self.inputWidth = inputWidth; self.inputHeight = inputHeight; self.inputChannels = inputChannels
        self.color = color; self.labels = labels; self.source = source; self.license = license
        self.parameters = parameters; self.sha256 = sha256; self.mean = mean; self.scale = scale
        self.ageWeights = ageWeights; self.chipPadding = chipPadding
    }

    /// The descriptor a valid manifest implies, before anything is loaded.
    public init(manifest m: ModelManifest, state: ModelState, error: String? = nil, parameters: Int = 0) {
        self.init(name: m.name, task: m.task, architecture: m.architecture, version: m.version, format: m.format,
                  state: state, error: error, inputWidth: m.input.width, inputHeight: m.input.height,
                  inputChannels: m.input.channels, color: m.input.color, labels: m.labels ?? [],
                  source: m.source ?? "", license: m.license ?? "", parameters: parameters, sha256: m.sha256,
                  mean: m.input.mean.map { Float($0) }, scale: Float(m.input.scale),
                  ageWeights: (m.ageWeights ?? []).map { Float($0) }, chipPadding: Float(m.chipPadding ?? 0))
    }

    /// A model folder whose model.json could not be read at all.
    static func broken(name: String, error: String?) -> ModelDescriptor {
        ModelDescriptor(name: name, task: nil, architecture: "", version: "", format: nil, state: .unavailable,
                        error: error, inputWidth: 0, inputHeight: 0, inputChannels: 0, color: .rgb, labels: [],
                        source: "", license: "", parameters: 0, sha256: "", mean: [], scale: 0, ageWeights: [],
                        chipPadding: 0)
    }
}

/// How a chip becomes the model's input tensor.
public struct Preprocessing: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var color: ColorOrder
    public var mean: [Float]
    public var scale: Float
    public var chipPadding: Float

    public init(manifest m: ModelManifest) {
        width = m.input.width; height = m.input.height; channels = m.input.channels
        color = m.input.color; mean = m.input.mean.map { Float($0) }; scale = Float(m.input.scale)
        chipPadding = Float(m.chipPadding ?? 0)
    }

    /// Elements of one sample's input tensor.
    public var sampleCount: Int { channels * height * width }

    /// Converts one `width × height` chip of interleaved RGB bytes (row-major,
    /// 3 bytes a pixel) into the model's float32 CHW tensor,
    /// `(byte - mean[c]) * scale`, reordering to BGR or reducing to luma
    /// (BT.601 weights) as ``color`` requires. Returns `nil` when `rgb` is not
    /// exactly `width * height * 3` bytes.
    public func tensor(fromRGB rgb: [UInt8]) -> [Float]? {
        let plane = width * height
        guard rgb.count == plane * 3 else { return nil }
        var out = [Float](repeating: 0, count: channels * plane)
        rgb.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                switch color {
                case .rgb, .bgr:
                    for c in 0..<3 {
                        let from = color == .rgb ? c : 2 - c
                        let m = mean[c]
                        for i in 0..<plane { dst[c * plane + i] = (Float(src[i * 3 + from]) - m) * scale }
                    }
                case .gray:
                    let m = mean[0]
                    for i in 0..<plane {
                        let y = 0.299 * Float(src[i * 3]) + 0.587 * Float(src[i * 3 + 1]) + 0.114 * Float(src[i * 3 + 2])
                        dst[i] = (y - m) * scale
                    }
                }
            }
        }
        return out
    }
}

/// One version of one model, ready to run. Hold it for the duration of a
/// call: a reload swaps the registry's entry, not this value, so a call in
/// flight finishes on the version it started with and that version is freed
/// when its last holder lets go.
public struct ServingModel: Sendable {
    /// State is always ``ModelState/serving`` here.
    public let descriptor: ModelDescriptor
    public let model: any InferenceModel
    public let preprocessing: Preprocessing

    public init(descriptor: ModelDescriptor, model: any InferenceModel, preprocessing: Preprocessing) {
        self.descriptor = descriptor; self.model = model; self.preprocessing = preprocessing
    }

    /// Runs `batch` preprocessed samples; see ``InferenceModel/run(_:batch:)``.
    public func run(_ input: [Float], batch: Int) throws -> [Float] {
        try model.run(input, batch: batch)
    }
}

/// The trainable Levi-Hassner models the server always lists, so that
/// clients see them (as unavailable, "not trained yet") before training.
public enum TrainableModels {
    public static let ageName = "lh-age"
    public static let genderName = "lh-gender"
    public static let names = [ageName, genderName]
    public static let architecture = "levi-hassner"
    /// Levi & Hassner (2015) input: 227 × 227 RGB crops.
    public static let inputSide = 227
    /// The eight Adience age groups, in output order.
    public static let ageBuckets = ["0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100"]
    /// Midpoint of each bucket, so expected years = Σ pᵢ · midpointᵢ.
    public static let ageBucketYears: [Double] = [1, 5, 10, 17.5, 28.5, 40.5, 50.5, 80]
    /// Same order as the pretrained gender model: class 0 is female.
    public static let genderLabels = ["female", "male"]
    /// Default normalisation, the same as the pretrained models use.
    public static let mean: [Double] = [122.781998, 117.000999, 104.297997]
    public static let scale = 0.00390625

    /// The model.json a trained version of `name` starts from; `nil` for a
    /// name that is not trainable. ``ModelRegistry/register(name:manifest:graph:promote:)``
    /// fills in `format`, `weights` and `sha256`.
    public static func manifest(for name: String, version: String = "") -> ModelManifest? {
        let task: ModelTask
        switch name {
        case ageName: task = .age
        case genderName: task = .gender
        default: return nil
        }
        return ModelManifest(
            name: name, task: task, architecture: architecture, version: version, format: .frpc,
            weights: "weights.frpc", sha256: "",
            input: .init(width: inputSide, height: inputSide, channels: 3, color: .rgb, mean: mean, scale: scale),
            labels: task == .age ? ageBuckets : genderLabels,
            ageWeights: task == .age ? ageBucketYears : nil,
            chipPadding: 0.2, source: "trained by this server", license: nil)
    }
}
