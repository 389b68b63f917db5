/// Why the registry could not load, reload, register or promote a model.
/// The `description` is what ListModels shows as the model's `error`.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No such model in the registry or on disk.
    case unknownModel(String)
    /// Not a valid model name (see ``ModelManifest/isValidName(_:)``).
    case invalidName(String)
    /// The registry was created without a models directory.
    case noModelsDirectory
    case io(path: String, reason: String)
    case manifest(ManifestError)
    /// model.json's `name` differs from its folder's name.
    case nameMismatch(folder: String, manifest: String)
    case weightsMissing(path: String)
    case weightsTooLarge(path: String, bytes: UInt64, limit: UInt64)
    /// The weights file's SHA-256 is not the one model.json promises.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// No ``GraphReader`` is installed for the manifest's format.
    case noReader(format: String)
    /// The reader refused the weights file.
    case readFailed(path: String, reason: String)
    /// The compiler refused the graph (e.g. an unsupported op).
    case compileFailed(reason: String)
    /// The compiled network does not fit the manifest.
    case shapeMismatch(String)
    /// `versions/<version>` already exists; versions are immutable.
    case versionExists(name: String, version: String)
    case unknownVersion(name: String, version: String)

    public var description: String {
        switch self {
        case .unknownModel(let name): "unknown model '\(name)'"
        case .invalidName(let name): "'\(name)' is not a valid model name"
        case .noModelsDirectory: "no models directory is configured"
        case .io(let path, let reason): "\(path): \(reason)"
        case .manifest(let error): error.description
        case .nameMismatch(let folder, let manifest): "model.json names '\(manifest)' but lives in folder '\(folder)'"
        case .weightsMissing(let path): "weights file \(path) does not exist"
        case .weightsTooLarge(let path, let bytes, let limit): "weights file \(path) is \(bytes) bytes, over the limit of \(limit)"
        case .checksumMismatch(let path, let expected, let actual):
            "sha256 of \(path) is \(actual), model.json expects \(expected); refusing the model"
        case .noReader(let format): "no reader for weights format '\(format)' is installed"
        case .readFailed(let path, let reason): "cannot read \(path): \(reason)"
        case .compileFailed(let reason): "cannot compile the network: \(reason)"
        case .shapeMismatch(let why): "network does not match model.json: \(why)"
        case .versionExists(let name, let version): "model '\(name)' already has a version '\(version)'"
        case .unknownVersion(let name, let version): "model '\(name)' has no version '\(version)'"
        }
    }
}
