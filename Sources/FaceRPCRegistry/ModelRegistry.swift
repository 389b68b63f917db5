import FaceRPCCore
import FaceRPCEngine
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A version written by ``ModelRegistry/register(name:manifest:graph:promote:)``.
public struct ModelVersion: Sendable, Equatable {
    public var name: String
    public var version: String
    /// `MODELS_DIR/<name>/versions/<version>`.
    public var directory: String
    /// Of the version's `weights.frpc`.
    public var sha256: String
    /// Whether it now serves.
    public var promoted: Bool
}

/// The named models the server serves, with their versions, states and
/// health, loaded from `MODELS_DIR/<name>/model.json` (see docs/MODELS.md).
///
/// Every model is loaded independently: a missing, corrupt or unsupported
/// model is listed as ``ModelState/unavailable`` with its reason and never
/// stops the others. Readers (``descriptors()``, ``servingModel(named:)``,
/// ``health(service:)``) take a short lock and never wait for a load.
/// Loads, reloads, registrations and promotions run one at a time on the
/// caller's thread and block while reading and compiling: call them off any
/// event loop.
///
/// Hot swap: ``reload(name:)`` builds the new version completely (checksum,
/// parse, compile, shape checks) before it replaces the old one in a single
/// locked assignment. Callers hold a ``ServingModel`` for the length of a
/// call, so calls in flight finish on the old version, which is released when
/// its last holder drops it. If the new version fails, the old one keeps
/// serving and the failure is logged and shown in ``ModelDescriptor/error``.
public final class ModelRegistry: Sendable {
    /// Named limits for what the registry reads from disk.
    public enum Limits {
        /// Largest weights file hashed and handed to a reader.
        public static let maxWeightsBytes: UInt64 = WeightFile.Limits.maxFileBytes
        /// At most this many model folders are loaded; more are logged and skipped.
        public static let maxModels = 256
    }

    struct Entry: Sendable {
        /// What ListModels shows; for a serving model this is the serving
        /// version's descriptor plus, possibly, the last reload error.
        var descriptor: ModelDescriptor
        var serving: ServingModel?
    }

    /// `nil`: no models on disk; only the trainable placeholders are listed.
    public let modelsDirectory: String?
    private let compiler: any ModelCompiler
    private let readers: [String: any GraphReader]
    private let logger: Logger
    private let entries: Locked<[String: Entry]>
    /// Serialises loads, swaps and writes so that two reloads of one model
    /// cannot publish out of order.
    private let operations = Locked(())

    /// - Parameters:
    ///   - modelsDirectory: `MODELS_DIR`; `nil` when the server has none.
    ///   - compiler: turns graphs into runnable models (the engine's `Network`).
    ///   - readers: graph readers by ``WeightFormat`` raw value (`"onnx"`);
    ///     `"frpc"` defaults to ``WeightFile`` when absent.
    ///   - logger: loads, swaps and failures are logged here.
    public init(modelsDirectory: String?, compiler: any ModelCompiler, readers: [String: any GraphReader],
                logger: Logger = Logger(label: "facerpc.registry")) {
        self.modelsDirectory = modelsDirectory.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.compiler = compiler
        var readers = readers
        if readers[WeightFormat.frpc.rawValue] == nil { readers[WeightFormat.frpc.rawValue] = WeightFile() }
        self.readers = readers
        self.logger = logger
        var initial: [String: Entry] = [:]
        for name in TrainableModels.names {
            initial[name] = Entry(descriptor: Self.placeholder(name), serving: nil)
        }
        self.entries = Locked(initial)
    }

    // MARK: Reading the registry

    /// Every known model, sorted by name, including the trainable `lh-age`
    /// and `lh-gender` (unavailable, "not trained yet", until trained).
    public func descriptors() -> [ModelDescriptor] {
        entries.withLock { $0.values.map(\.descriptor) }.sorted { $0.name < $1.name }
    }

    /// The descriptor of one model, or `nil` if unknown.
    public func descriptor(named name: String) -> ModelDescriptor? {
        entries.withLock { $0[name]?.descriptor }
    }

    /// The version of `name` serving now, or `nil` if the model is unknown or
    /// not serving. Hold the result for the whole call (see the type's notes).
    public func servingModel(named name: String) -> ServingModel? {
        entries.withLock { $0[name]?.serving }
    }

    /// grpc.health.v1 status of one model: ``HealthState/unknown`` for a name
    /// the registry does not list. For `""` (the whole server) this answers
    /// ``HealthState/serving`` when at least one model serves; the server may
    /// apply its own policy instead.
    public func health(service: String) -> HealthState {
        entries.withLock { entries in
            if service.isEmpty {
                return entries.values.contains { $0.serving != nil } ? .serving : .notServing
            }
            guard let entry = entries[service] else { return .unknown }
            return entry.serving != nil ? .serving : .notServing
        }
    }

    // MARK: Loading

    /// Loads every `MODELS_DIR/*/model.json`. Folders whose names start with
    /// `.`, lack a model.json or are not valid model names are skipped (and
    /// logged). Each model ends ``ModelState/serving`` or
    /// ``ModelState/unavailable``; nothing thrown by one model affects another.
    /// Calling it again reloads every folder, with ``reload(name:)`` semantics.
    public func loadAll() {
        operations.withLock { _ in
            guard let directory = modelsDirectory else {
                logger.notice("no models directory configured; only trainable placeholders are listed")
                return
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            } catch {
                logger.error("cannot list models directory", metadata: ["path": "\(directory)", "error": "\(error.localizedDescription)"])
                return
            }
            var candidates: [String] = []
            for name in names where !name.hasPrefix(".") {
                let folder = directory + "/" + name
                guard isDirectory(folder) else { continue }
                guard isFile(folder + "/model.json") else {
                    logger.debug("skipping folder without model.json", metadata: ["path": "\(folder)"])
                    continue
                }
                guard ModelManifest.isValidName(name) else {
                    logger.warning("skipping model folder: not a valid model name", metadata: ["path": "\(folder)"])
                    continue
                }
                guard candidates.count < Limits.maxModels else {
                    logger.warning("too many model folders; skipping the rest", metadata: ["limit": "\(Limits.maxModels)", "skipped": "\(name)"])
                    break
                }
                candidates.append(name)
            }
            entries.withLock { entries in
                for name in candidates where entries[name]?.serving == nil {
                    entries[name] = Entry(descriptor: loadingDescriptor(name, previous: entries[name]?.descriptor), serving: nil)
                }
            }
            for name in candidates {
                _ = try? reloadLocked(name: name, folder: directory + "/" + name)
            }
            let serving = entries.withLock { $0.values.filter { $0.serving != nil }.count }
            logger.info("models loaded", metadata: ["serving": "\(serving)", "folders": "\(candidates.count)"])
        }
    }

    /// Re-reads `MODELS_DIR/<name>/model.json` and its weights, verifies,
    /// parses and compiles them, and on success atomically replaces the
    /// serving version. On failure the previous version, if any, keeps
    /// serving; the failure is logged, recorded in the descriptor's `error`,
    /// and thrown. Also loads a model folder added since ``loadAll()``.
    /// - Returns: the model's descriptor after the swap.
    /// - Throws: ``RegistryError`` (or the reader's or compiler's error, wrapped).
    @discardableResult
    public func reload(name: String) throws -> ModelDescriptor {
        guard let directory = modelsDirectory else { throw RegistryError.noModelsDirectory }
        guard ModelManifest.isValidName(name) else { throw RegistryError.invalidName(name) }
        return try operations.withLock { _ in
            let folder = directory + "/" + name
            let manifestPath = folder + "/model.json"
            let (known, serving) = entries.withLock { ($0[name] != nil, $0[name]?.serving != nil) }
            if !isFile(manifestPath) && !serving {
                if !known { throw RegistryError.unknownModel(name) }
                if TrainableModels.names.contains(name) {
                    throw RegistryError.io(path: manifestPath, reason: "does not exist (not trained yet)")
                }
            }
            entries.withLock { entries in
                if entries[name]?.serving == nil {
                    entries[name] = Entry(descriptor: loadingDescriptor(name, previous: entries[name]?.descriptor), serving: nil)
                }
            }
            return try reloadLocked(name: name, folder: folder)
        }
    }

    /// Stores a new version of `name` as `MODELS_DIR/<name>/versions/<version>/`
    /// (`weights.frpc` plus its model.json) and, if `promote`, makes it the
    /// serving version (see ``promote(name:version:)``).
    ///
    /// `manifest` supplies task, architecture, input, labels, age weights,
    /// source and license (``TrainableModels/manifest(for:version:)`` gives a
    /// start); `name`, `format` (`frpc`), `weights` and `sha256` are set here.
    /// An empty `version` becomes one more than the highest numeric version
    /// seen (starting at "1"). Versions are immutable: an existing one throws.
    /// - Throws: ``RegistryError``, ``WeightFileError`` for a graph that cannot
    ///   be stored; when promotion fails the version stays stored, unpromoted.
    @discardableResult
    public func register(name: String, manifest: ModelManifest, graph: Graph, promote: Bool) throws -> ModelVersion {
        guard let directory = modelsDirectory else { throw RegistryError.noModelsDirectory }
        guard ModelManifest.isValidName(name) else { throw RegistryError.invalidName(name) }
        return try operations.withLock { _ in
            let folder = directory + "/" + name
            var m = manifest
            m.schema = ModelManifest.Limits.schema
            m.name = name
            m.format = .frpc
            m.weights = "weights.frpc"
            if m.version.isEmpty { m.version = nextVersion(folder: folder) }
            m.sha256 = String(repeating: "0", count: 64)  // validated before the real one exists
            do { try m.validate() } catch let error as ManifestError { throw RegistryError.manifest(error) }

            let bytes = try WeightFile.encode(graph)
            m.sha256 = SHA256.hex(SHA256.hash(bytes))
            try RegistryFiles.makeDirectories(folder + "/versions")
            let versionDirectory = folder + "/versions/" + m.version
            if mkdir(versionDirectory, 0o755) != 0 {
                if errno == EEXIST { throw RegistryError.versionExists(name: name, version: m.version) }
                throw RegistryError.io(path: versionDirectory, reason: "cannot create directory: \(AtomicFile.errnoString())")
            }
            try RegistryFiles.write(bytes, to: versionDirectory + "/" + m.weights)
            try RegistryFiles.write(Array(m.encoded()), to: versionDirectory + "/model.json")
            logger.info("model version stored", metadata: [
                "model": "\(name)", "version": "\(m.version)", "bytes": "\(bytes.count)", "sha256": "\(m.sha256)",
            ])
            if promote {
                _ = try promoteLocked(name: name, version: m.version, folder: folder)
            }
            return ModelVersion(name: name, version: m.version, directory: versionDirectory, sha256: m.sha256, promoted: promote)
        }
    }

    /// Makes the stored `versions/<version>` of `name` the serving version:
    /// loads and verifies it fully, hard-links its weights into the model
    /// folder as `weights-<version>.<format>`, atomically replaces the folder's
    /// model.json, then swaps it in. Serves for rollback too. Nothing changes
    /// if any step before the model.json rename fails.
    /// - Throws: ``RegistryError``.
    @discardableResult
    public func promote(name: String, version: String) throws -> ModelDescriptor {
        guard let directory = modelsDirectory else { throw RegistryError.noModelsDirectory }
        guard ModelManifest.isValidName(name) else { throw RegistryError.invalidName(name) }
        return try operations.withLock { _ in
            try promoteLocked(name: name, version: version, folder: directory + "/" + name)
        }
    }

    /// SHA-256 of a file as lower-case hex, reading it through a memory map.
    /// - Throws: ``RegistryError`` when the file is missing, unreadable or
    ///   larger than ``Limits/maxWeightsBytes``.
    public static func sha256(ofFile path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw RegistryError.weightsMissing(path: path) }
            throw RegistryError.io(path: path, reason: "cannot stat: \(AtomicFile.errnoString())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw RegistryError.io(path: path, reason: "not a regular file") }
        let size = UInt64(info.st_size)
        guard size <= Limits.maxWeightsBytes else {
            throw RegistryError.weightsTooLarge(path: path, bytes: size, limit: Limits.maxWeightsBytes)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw RegistryError.io(path: path, reason: "cannot map: \(error.localizedDescription)")
        }
        return data.withUnsafeBytes { SHA256.hex(SHA256.hash($0)) }
    }

    // MARK: Internals (callers hold `operations`)

    private func reloadLocked(name: String, folder: String) throws -> ModelDescriptor {
        var manifest: ModelManifest?
        do {
            let m = try readManifest(folder: folder, expectedName: name)
            manifest = m
            let fresh = try build(manifest: m, folder: folder)
            let previous = publish(fresh)
            logger.info("model serving", metadata: [
                "model": "\(name)", "version": "\(m.version)", "previous": "\(previous?.descriptor.version ?? "none")",
                "parameters": "\(fresh.descriptor.parameters)",
            ])
            return fresh.descriptor
        } catch {
            let message = String(describing: error)
            let stillServing = entries.withLock { entries -> String? in
                if let serving = entries[name]?.serving {
                    var descriptor = serving.descriptor
                    descriptor.error = "reload failed: \(message); still serving version \(descriptor.version)"
                    entries[name]?.descriptor = descriptor
                    return descriptor.version
                }
                let descriptor = manifest.map { ModelDescriptor(manifest: $0, state: .unavailable, error: message) }
                    ?? .broken(name: name, error: message)
                entries[name] = Entry(descriptor: descriptor, serving: nil)
                return nil
            }
            if let stillServing {
                logger.error("model reload failed; previous version keeps serving", metadata: [
                    "model": "\(name)", "serving": "\(stillServing)", "error": "\(message)",
                ])
            } else {
                logger.error("model unavailable", metadata: ["model": "\(name)", "error": "\(message)"])
            }
            throw error
        }
    }

    private func promoteLocked(name: String, version: String, folder: String) throws -> ModelDescriptor {
        let versionDirectory = folder + "/versions/" + version
        guard ModelManifest.isValidVersion(version), isFile(versionDirectory + "/model.json") else {
            throw RegistryError.unknownVersion(name: name, version: version)
        }
        let stored = try readManifest(folder: versionDirectory, expectedName: name)
        let verified = try build(manifest: stored, folder: versionDirectory)

        var top = stored
        top.weights = "weights-\(version).\(stored.format.rawValue)"
        try linkOrCopy(from: versionDirectory + "/" + stored.weights, to: folder + "/" + top.weights)
        let previousManifest = try? ModelManifest.load(path: folder + "/model.json")
        try RegistryFiles.write(Array(top.encoded()), to: folder + "/model.json")

        let serving = ServingModel(
            descriptor: ModelDescriptor(manifest: top, state: .serving, parameters: verified.descriptor.parameters),
            model: verified.model, preprocessing: verified.preprocessing)
        let previous = publish(serving)
        // The previous top-level link is only a second name for a file kept
        // under versions/, so dropping it loses nothing.
        if let old = previousManifest?.weights, old != top.weights, old.hasPrefix("weights-") {
            unlink(folder + "/" + old)
        }
        logger.info("model version promoted", metadata: [
            "model": "\(name)", "version": "\(version)", "previous": "\(previous?.descriptor.version ?? "none")",
        ])
        return serving.descriptor
    }

    /// Replaces the entry in one locked assignment; returns what it replaced.
    private func publish(_ serving: ServingModel) -> ServingModel? {
        entries.withLock { entries in
            let previous = entries[serving.descriptor.name]?.serving
            entries[serving.descriptor.name] = Entry(descriptor: serving.descriptor, serving: serving)
            return previous
        }
    }

    private func readManifest(folder: String, expectedName: String) throws -> ModelManifest {
        let manifest: ModelManifest
        do {
            manifest = try ModelManifest.load(path: folder + "/model.json")
        } catch let error as ManifestError {
            throw RegistryError.manifest(error)
        }
        guard manifest.name == expectedName else {
            throw RegistryError.nameMismatch(folder: expectedName, manifest: manifest.name)
        }
        return manifest
    }

    /// Verifies, reads and compiles one version; touches no shared state.
    private func build(manifest: ModelManifest, folder: String) throws -> ServingModel {
        let weightsPath = folder + "/" + manifest.weights
        let actual = try Self.sha256(ofFile: weightsPath)
        guard actual == manifest.sha256 else {
            throw RegistryError.checksumMismatch(path: weightsPath, expected: manifest.sha256, actual: actual)
        }
        guard let reader = readers[manifest.format.rawValue] else {
            throw RegistryError.noReader(format: manifest.format.rawValue)
        }
        let graph: Graph
        do {
            graph = try reader.readGraph(path: weightsPath)
        } catch {
            throw RegistryError.readFailed(path: weightsPath, reason: String(describing: error))
        }
        let model: any InferenceModel
        do {
            model = try compiler.compile(graph)
        } catch {
            throw RegistryError.compileFailed(reason: String(describing: error))
        }
        try Self.check(model, against: manifest)
        return ServingModel(
            descriptor: ModelDescriptor(manifest: manifest, state: .serving, parameters: model.parameterCount),
            model: model, preprocessing: Preprocessing(manifest: manifest))
    }

    /// The network must take the chip model.json describes and produce one
    /// value per label / age weight.
    static func check(_ model: any InferenceModel, against m: ModelManifest) throws {
        let expectedInput = [m.input.channels, m.input.height, m.input.width]
        guard model.inputShape == expectedInput else {
            throw RegistryError.shapeMismatch("input shape is \(model.inputShape), model.json describes \(expectedInput) (C, H, W)")
        }
        var outputs = 1
        for d in model.outputShape {
            guard d > 0 else { throw RegistryError.shapeMismatch("output shape \(model.outputShape) has a non-positive dimension") }
            let (p, overflow) = outputs.multipliedReportingOverflow(by: d)
            guard !overflow else { throw RegistryError.shapeMismatch("output shape \(model.outputShape) overflows") }
            outputs = p
        }
        if let labels = m.labels, labels.count != outputs {
            throw RegistryError.shapeMismatch("\(outputs) outputs but \(labels.count) labels")
        }
        if let ageWeights = m.ageWeights, ageWeights.count != outputs {
            throw RegistryError.shapeMismatch("\(outputs) outputs but \(ageWeights.count) age weights")
        }
    }

    private func loadingDescriptor(_ name: String, previous: ModelDescriptor?) -> ModelDescriptor {
        var descriptor = previous ?? .broken(name: name, error: nil)
        descriptor.state = .loading
        descriptor.error = nil
        return descriptor
    }

    private static func placeholder(_ name: String) -> ModelDescriptor {
        // The template is valid apart from sha256/weights, which a descriptor does not check.
        let manifest = TrainableModels.manifest(for: name)!
        var descriptor = ModelDescriptor(manifest: manifest, state: .unavailable, error: "not trained yet")
        descriptor.format = nil
        descriptor.sha256 = ""
        descriptor.source = ""
        return descriptor
    }

    private func nextVersion(folder: String) -> String {
        var highest = 0
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: folder + "/versions") {
            for v in versions { highest = max(highest, Int(v) ?? 0) }
        }
        if let current = try? ModelManifest.load(path: folder + "/model.json") {
            highest = max(highest, Int(current.version) ?? 0)
        }
        return String(highest + 1)
    }

    private func linkOrCopy(from source: String, to destination: String) throws {
        if unlink(destination) != 0 && errno != ENOENT {
            throw RegistryError.io(path: destination, reason: "cannot replace: \(AtomicFile.errnoString())")
        }
        if link(source, destination) == 0 {
            AtomicFile.syncDirectory(AtomicFile.parentDirectory(of: destination))
            return
        }
        // Some file systems have no hard links; fall back to a durable copy.
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: source))
        } catch {
            throw RegistryError.io(path: source, reason: "cannot read: \(error.localizedDescription)")
        }
        try data.withUnsafeBytes { try RegistryFiles.write($0, to: destination) }
    }

    private func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
