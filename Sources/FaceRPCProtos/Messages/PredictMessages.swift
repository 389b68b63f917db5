// facerpc/v1/predict.proto: age and gender prediction.

/// Uncompressed 8-bit RGB pixels, row-major, top row first.
///
/// The codec does not check that `rgb` matches the dimensions; the service
/// that reads the image does.
public struct RawImage: ProtoMessage, Hashable {
    public var width: UInt32 = 0
    public var height: UInt32 = 0
    /// Bytes from the start of one row to the next; >= 3 * width. 0 means 3 * width.
    public var stride: UInt32 = 0
    public var rgb: [UInt8] = []

    public init() {}

    public init(width: UInt32, height: UInt32, stride: UInt32 = 0, rgb: [UInt8]) {
        self.width = width
        self.height = height
        self.stride = stride
        self.rgb = rgb
    }
}

/// How to run one prediction; zero values take the server defaults.
public struct PredictOptions: ProtoMessage, Hashable {
    /// `""` means `"age"` (the pretrained network).
    public var ageModel: String = ""
    /// `""` means `"gender"`.
    public var genderModel: String = ""
    /// The image is already one face crop: skip detection and use it whole.
    public var faceCrop: Bool = false
    /// Smallest face side to look for, in pixels; 0 = server default (20).
    public var minFaceSize: Float = 0
    /// Detection score threshold in [0, 1]; 0 = server default.
    public var scoreThreshold: Float = 0
    /// Also return the full age and gender distributions.
    public var includeDistributions: Bool = false
    /// At most this many faces (largest first); 0 = server default.
    public var maxFaces: UInt32 = 0

    public init() {}
}

/// One image to find faces in and predict age and gender for.
public struct PredictRequest: ProtoMessage, Hashable {
    /// The `image` oneof: how the picture is sent.
    public enum Image: Sendable, Hashable {
        /// A JPEG file's bytes.
        case jpeg([UInt8])
        /// Decoded pixels.
        case raw(RawImage)
    }

    /// `nil` when the request carries no image.
    public var image: Image?
    public var options: PredictOptions?

    public init() {}

    public init(image: Image?, options: PredictOptions? = nil) {
        self.image = image
        self.options = options
    }
}

/// An axis-aligned rectangle in image pixels.
public struct Box: ProtoMessage, Hashable {
    /// Left edge, pixels.
    public var x: Float = 0
    /// Top edge, pixels.
    public var y: Float = 0
    public var width: Float = 0
    public var height: Float = 0

    public init() {}

    public init(x: Float, y: Float, width: Float, height: Float) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// A point in image pixels.
public struct Point: ProtoMessage, Hashable {
    public var x: Float = 0
    public var y: Float = 0

    public init() {}

    public init(x: Float, y: Float) {
        self.x = x
        self.y = y
    }
}

/// The Levi-Hassner age buckets (`facerpc.v1.AgeBucket`).
public enum AgeBucket: Sendable, Hashable, CaseIterable {
    case unspecified
    case age0To2
    case age4To6
    case age8To12
    case age15To20
    case age25To32
    case age38To43
    case age48To53
    case age60To100
    /// A number this version of the protocol does not know.
    case unrecognized(Int32)

    /// The named cases (not `unrecognized`).
    public static let allCases: [AgeBucket] = [
        .unspecified, .age0To2, .age4To6, .age8To12, .age15To20, .age25To32, .age38To43, .age48To53, .age60To100,
    ]

    /// The case for a wire number; unknown numbers give `.unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .age0To2
        case 2: self = .age4To6
        case 3: self = .age8To12
        case 4: self = .age15To20
        case 5: self = .age25To32
        case 6: self = .age38To43
        case 7: self = .age48To53
        case 8: self = .age60To100
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .age0To2: 1
        case .age4To6: 2
        case .age8To12: 3
        case .age15To20: 4
        case .age25To32: 5
        case .age38To43: 6
        case .age48To53: 7
        case .age60To100: 8
        case .unrecognized(let value): value
        }
    }
}

/// `facerpc.v1.Gender`.
public enum Gender: Sendable, Hashable, CaseIterable {
    case unspecified
    case female
    case male
    /// A number this version of the protocol does not know.
    case unrecognized(Int32)

    /// The named cases (not `unrecognized`).
    public static let allCases: [Gender] = [.unspecified, .female, .male]

    /// The case for a wire number; unknown numbers give `.unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .female
        case 2: self = .male
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .female: 1
        case .male: 2
        case .unrecognized(let value): value
        }
    }
}

/// The predicted age of one face.
public struct AgeEstimate: ProtoMessage, Hashable {
    /// Expected age in years.
    public var years: Float = 0
    public var bucket: AgeBucket = .unspecified
    /// Probability mass of the chosen bucket.
    public var confidence: Float = 0
    /// The model's class probabilities, if asked for.
    public var distribution: [Float] = []

    public init() {}
}

/// The predicted gender of one face.
public struct GenderEstimate: ProtoMessage, Hashable {
    public var label: Gender = .unspecified
    public var confidence: Float = 0
    /// `[female, male]`, if asked for.
    public var distribution: [Float] = []

    public init() {}
}

/// One detected face and its predictions.
public struct Face: ProtoMessage, Hashable {
    public var box: Box?
    public var score: Float = 0
    /// Five points: left eye, right eye, nose, left mouth corner, right mouth corner.
    public var landmarks: [Point] = []
    public var age: AgeEstimate?
    public var gender: GenderEstimate?

    public init() {}
}

/// Milliseconds spent in each stage of one call.
public struct Timings: ProtoMessage, Hashable {
    public var decodeMs: Float = 0
    public var detectMs: Float = 0
    public var alignMs: Float = 0
    public var queueMs: Float = 0
    public var ageMs: Float = 0
    public var genderMs: Float = 0
    public var totalMs: Float = 0

    public init() {}
}

/// The faces found in one image.
public struct PredictResponse: ProtoMessage, Hashable {
    public var faces: [Face] = []
    /// True when at least one face was found (the seed's `ismankind`).
    public var isHuman: Bool = false
    public var timings: Timings?
    public var imageWidth: UInt32 = 0
    public var imageHeight: UInt32 = 0
    /// The model names actually used.
    public var ageModel: String = ""
    public var genderModel: String = ""

    public init() {}
}
