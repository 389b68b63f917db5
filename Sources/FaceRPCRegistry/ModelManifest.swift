import FaceRPCCore
import Foundation

/// What a model predicts.
public enum ModelTask: String, Codable, Sendable, CaseIterable {
    case age
    case gender
}

/// How a weights file is encoded; selects the ``GraphReader``.
public enum WeightFormat: String, Codable, Sendable, CaseIterable {
    /// ONNX protobuf, read by the importer the server plugs in.
    case onnx
    /// The native `.frpc` format of ``WeightFile``.
    case frpc
}

/// Channel order of the input chip.
public enum ColorOrder: String, Codable, Sendable, CaseIterable {
    case rgb = "RGB"
    case bgr = "BGR"
    case gray = "GRAY"

    /// Channels a tensor in this order has.
    public var channels: Int { self == .gray ? 1 : 3 }
}

/// Decodes a closed string enum, naming the field and the allowed values
/// when the string is unknown (the synthesised error only says "invalid").
private protocol StrictStringEnum: RawRepresentable, CaseIterable where RawValue == String {
    static var fieldName: String { get }
}

extension StrictStringEnum {
    init(strictlyFrom decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let known = Self.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw ManifestError.invalidField(Self.fieldName, reason: "is '\(raw)'; known values: \(known)")
        }
        self = value
    }
}

extension ModelTask: StrictStringEnum {
    static var fieldName: String { "task" }
    public init(from decoder: any Decoder) throws { try self.init(strictlyFrom: decoder) }
}

extension WeightFormat: StrictStringEnum {
    static var fieldName: String { "format" }
    public init(from decoder: any Decoder) throws { try self.init(strictlyFrom: decoder) }
}

extension ColorOrder: StrictStringEnum {
    static var fieldName: String { "input.color" }
    public init(from decoder: any Decoder) throws { try self.init(strictlyFrom: decoder) }
}

/// Why a model.json was refused.
public enum ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not JSON, a missing key, or a value of the wrong JSON type.
    case malformed(String)
    /// The file is larger than ``ModelManifest/Limits/maxFileBytes``.
    case tooLarge(bytes: Int, limit: Int)
    /// A field is present and typed correctly but its value is not allowed.
    case invalidField(String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let why): "model.json is malformed: \(why)"
        case .tooLarge(let bytes, let limit): "model.json is \(bytes) bytes, more than the limit of \(limit)"
        case .invalidField(let field, let reason): "model.json field '\(field)' \(reason)"
        }
    }
}

/// The contents of `MODELS_DIR/<name>/model.json`: which weights to load and
/// how callers must preprocess chips for them.
///
/// Decoding alone checks only JSON types; call ``validate()`` (or use
/// ``decode(_:)``, which does) before trusting any value. Unknown keys are
/// ignored so that newer writers can add fields.
public struct ModelManifest: Codable, Sendable, Equatable {
    /// Named limits every manifest is checked against.
    public enum Limits {
        /// The only schema version this code reads.
        public static let schema = 1
        /// model.json is read whole; anything bigger is not a manifest.
        public static let maxFileBytes = 1 << 20
        /// Model names are folder names and appear in RPCs and logs.
        public static let maxNameLength = 64
        /// `architecture`, `version`.
        public static let maxIdentifierLength = 64
        /// `weights` file name.
        public static let maxFileNameLength = 255
        /// `source`, `license`, each label.
        public static let maxTextLength = 1024
        /// Largest chip side in pixels.
        public static let maxInputSide = 1024
        /// Most classes (labels, age weights) a model may have.
        public static let maxClasses = 1024
        /// `chip_padding` is a fraction of the face box.
        public static let maxChipPadding = 2.0
    }

    /// How the chip is turned into the input tensor.
    public struct Input: Codable, Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var channels: Int
        public var color: ColorOrder
        /// One value per channel, subtracted from the byte value.
        public var mean: [Double]
        /// Multiplies `(byte - mean)`.
        public var scale: Double

        public init(width: Int, height: Int, channels: Int, color: ColorOrder, mean: [Double], scale: Double) {
            self.width = width; self.height = height; self.channels = channels
            self.color = color; self.mean = mean; self.scale = scale
        }
    }

    public var schema: Int
    public var name: String
    public var task: ModelTask
    public var architecture: String
    public var version: String
    public var format: WeightFormat
    /// A file name inside the model's folder (no directories).
    public var weights: String
    /// Lower-case hex SHA-256 of the weights file.
    public var sha256: String
    public var input: Input
    /// Class labels (gender: required, one per output; age: optional bucket labels).
    public var labels: [String]?
    /// Age only: expected years = Σ pᵢ · ageWeights[i].
    public var ageWeights: [Double]?
    /// Fraction of the face box added on each side when cutting the chip.
    public var chipPadding: Double?
    public var source: String?
    public var license: String?

    enum CodingKeys: String, CodingKey {
        case schema, name, task, architecture, version, format, weights, sha256, input, labels
        case ageWeights = "age_weights"
        case chipPadding = "chip_padding"
        case source, license
    }

    public init(schema: Int = Limits.schema, name: String, task: ModelTask, architecture: String, version: String,
                format: WeightFormat, weights: String, sha256: String, input: Input,
                labels: [String]? = nil, ageWeights: [Double]? = nil, chipPadding: Double? = nil,
                source: String? = nil, license: String? = nil) {
        self.schema = schema; self.name = name; self.task = task; self.architecture = architecture
        self.version = version; self.format = format; self.weights = weights; self.sha256 = sha256
        self.input = input; self.labels = labels; self.ageWeights = ageWeights
        self.chipPadding = chipPadding; self.source = source; self.license = license
    }

    /// Decodes and validates a model.json.
    /// - Throws: ``ManifestError``.
    public static func decode(_ data: Data) throws -> ModelManifest {
        guard data.count <= Limits.maxFileBytes else {
            throw ManifestError.tooLarge(bytes: data.count, limit: Limits.maxFileBytes)
        }
        let manifest: ModelManifest
        do {
            manifest = try JSONDecoder().decode(ModelManifest.self, from: data)
        } catch let error as ManifestError {
            throw error
        } catch let error as DecodingError {
            throw ManifestError.malformed(Self.explain(error))
        } catch {
            throw ManifestError.malformed("\(error)")
        }
        try manifest.validate()
        return manifest
    }

    /// Reads, decodes and validates the model.json at `path`, refusing files
    /// over ``Limits/maxFileBytes`` before reading them.
    /// - Throws: ``ManifestError``, or ``RegistryError/io(path:reason:)``.
    public static func load(path: String) throws -> ModelManifest {
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw RegistryError.io(path: path, reason: "cannot stat: \(error.localizedDescription)")
        }
        guard size <= Limits.maxFileBytes else {
            throw ManifestError.tooLarge(bytes: size, limit: Limits.maxFileBytes)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RegistryError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data)
    }

    /// Pretty, key-sorted JSON, as ``ModelRegistry/register(name:manifest:graph:promote:)`` writes it.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }

    /// Checks every field against the contract in docs/MODELS.md and ``Limits``.
    /// - Throws: ``ManifestError/invalidField(_:reason:)`` naming the first bad field.
    public func validate() throws {
        func fail(_ field: String, _ reason: String) -> ManifestError { .invalidField(field, reason: reason) }

        guard schema == Limits.schema else { throw fail("schema", "is \(schema); this server reads schema \(Limits.schema)") }
        guard Self.isValidName(name) else {
            throw fail("name", "must be 1...\(Limits.maxNameLength) characters of a-z, 0-9, '-', '_', '.', starting with a letter or digit")
        }
        guard Self.isIdentifier(architecture) else {
            throw fail("architecture", "must be 1...\(Limits.maxIdentifierLength) characters of A-Z, a-z, 0-9, '-', '_', '.'")
        }
        guard Self.isValidVersion(version) else {
            throw fail("version", "must be 1...\(Limits.maxIdentifierLength) characters of A-Z, a-z, 0-9, '-', '_', '.', and neither '.' nor containing '..'")
        }
        guard Self.isValidFileName(weights) else {
            throw fail("weights", "must be a plain file name inside the model folder (1...\(Limits.maxFileNameLength) bytes, no '/', no '..', not 'model.json')")
        }
        guard sha256.utf8.count == 64, sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw fail("sha256", "must be 64 lower-case hexadecimal digits")
        }

        let side = 1...Limits.maxInputSide
        guard side.contains(input.width) else { throw fail("input.width", "is \(input.width); allowed \(side)") }
        guard side.contains(input.height) else { throw fail("input.height", "is \(input.height); allowed \(side)") }
        guard input.channels == input.color.channels else {
            throw fail("input.channels", "is \(input.channels) but color \(input.color.rawValue) has \(input.color.channels)")
        }
        guard input.mean.count == input.channels else {
            throw fail("input.mean", "has \(input.mean.count) values; one per channel (\(input.channels)) is required")
        }
        guard input.mean.allSatisfy({ $0.isFinite && abs($0) <= 1e6 }) else { throw fail("input.mean", "must be finite numbers") }
        guard input.scale.isFinite, input.scale > 0, input.scale <= 1e6 else {
            throw fail("input.scale", "must be a finite number > 0")
        }

        if let labels {
            guard (1...Limits.maxClasses).contains(labels.count) else {
                throw fail("labels", "has \(labels.count) entries; allowed 1...\(Limits.maxClasses)")
            }
            guard labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= Limits.maxTextLength }) else {
                throw fail("labels", "entries must be non-empty and at most \(Limits.maxTextLength) bytes")
            }
        }
        switch task {
        case .gender:
            guard let labels, labels.count >= 2 else { throw fail("labels", "is required for a gender model (one per class, at least 2)") }
            guard ageWeights == nil else { throw fail("age_weights", "is only allowed for age models") }
        case .age:
            if let ageWeights {
                guard (1...Limits.maxClasses).contains(ageWeights.count) else {
                    throw fail("age_weights", "has \(ageWeights.count) entries; allowed 1...\(Limits.maxClasses)")
                }
                guard ageWeights.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1000 }) else {
                    throw fail("age_weights", "must be finite years in 0...1000")
                }
                if let labels, labels.count != ageWeights.count {
                    throw fail("age_weights", "has \(ageWeights.count) entries but labels has \(labels.count)")
                }
            }
        }
        if let chipPadding {
            guard chipPadding.isFinite, (0...Limits.maxChipPadding).contains(chipPadding) else {
                throw fail("chip_padding", "is \(chipPadding); allowed 0...\(Limits.maxChipPadding)")
            }
        }
        if let source, source.utf8.count > Limits.maxTextLength { throw fail("source", "is longer than \(Limits.maxTextLength) bytes") }
        if let license, license.utf8.count > Limits.maxTextLength { throw fail("license", "is longer than \(Limits.maxTextLength) bytes") }
    }

    /// Lower-case letters, digits, `-`, `_`, `.`; starts with a letter or digit.
    public static func isValidName(_ name: String) -> Bool {
        FolderNames.isModelName(name, maxBytes: Limits.maxNameLength)
    }

    /// A version is also a folder name under `versions/`, hence no `.`/`..`.
    public static func isValidVersion(_ version: String) -> Bool {
        FolderNames.isPathSafeIdentifier(version, maxBytes: Limits.maxIdentifierLength)
    }

    static func isIdentifier(_ s: String) -> Bool {
        FolderNames.isIdentifier(s, maxBytes: Limits.maxIdentifierLength)
    }

    static func isValidFileName(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...Limits.maxFileNameLength).contains(bytes.count) else { return false }
        guard !bytes.contains(0x2f), !bytes.contains(0x5c), !bytes.contains(0) else { return false }
        guard !s.contains(".."), s != ".", s != "model.json" else { return false }
        return !bytes.contains { $0 < 0x20 }
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "top level" : "'\(p)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "\(path(context)) is not a \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null; expected \(type)"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
