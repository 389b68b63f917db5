import FaceRPCEngine
import Foundation
import Testing
@testable import FaceRPCRegistry

/// Reads a "fake ONNX" file whose text names the marker; refuses anything else,
/// standing in for the ONNX importer the server plugs in.
struct FakeONNXReader: GraphReader {
    struct NotONNX: Error {}
    func readGraph(path: String) throws -> Graph {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard text.hasPrefix("fake-onnx marker="), let marker = Float(text.dropFirst(17)) else { throw NotONNX() }
        return markedGraph(marker: marker)
    }
}

@Suite struct ModelRegistryTests {
    static func makeRegistry(_ dir: TemporaryDirectory?) -> ModelRegistry {
        ModelRegistry(modelsDirectory: dir?.path, compiler: FakeCompiler(), readers: ["onnx": FakeONNXReader()])
    }

    static func marker(_ serving: ServingModel?) throws -> Float {
        let serving = try #require(serving)
        let input = [Float](repeating: 0, count: serving.preprocessing.sampleCount)
        return try #require(try serving.run(input, batch: 1).first)
    }

    @Test func goodAndBrokenModelsAreLoadedIndependently() throws {
        let dir = try TemporaryDirectory()
        try installModel(in: dir.path, name: "gender", version: "1", graph: markedGraph(marker: 1))
        // Weights changed after model.json was written: checksum mismatch.
        try installModel(in: dir.path, name: "tampered", version: "1", graph: markedGraph(marker: 2))
        try WeightFile.write(markedGraph(marker: 9), to: dir.path + "/tampered/weights.frpc")
        // Not JSON at all.
        try FileManager.default.createDirectory(atPath: dir.path + "/garbled", withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir.path + "/garbled/model.json"))
        // The compiler refuses the graph.
        var unsupported = markedGraph(marker: 3)
        unsupported.nodes.append(GraphNode(name: "unsupported", op: .relu, inputs: ["y"], outputs: ["z"]))
        try installModel(in: dir.path, name: "exotic", version: "1", graph: unsupported)
        // ONNX through the plugged-in reader, and a file that reader refuses.
        try FileManager.default.createDirectory(atPath: dir.path + "/onnx-good", withIntermediateDirectories: true)
        try Data("fake-onnx marker=4".utf8).write(to: URL(fileURLWithPath: dir.path + "/onnx-good/m.onnx"))
        try genderManifest(name: "onnx-good", version: "7", weights: "m.onnx",
                           sha256: ModelRegistry.sha256(ofFile: dir.path + "/onnx-good/m.onnx"), format: .onnx)
            .encoded().write(to: URL(fileURLWithPath: dir.path + "/onnx-good/model.json"))
        // Folders that are not models are ignored.
        try FileManager.default.createDirectory(atPath: dir.path + "/empty", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/.hidden", withIntermediateDirectories: true)

        let registry = Self.makeRegistry(dir)
        registry.loadAll()
        let byName = Dictionary(uniqueKeysWithValues: registry.descriptors().map { ($0.name, $0) })
        #expect(registry.descriptors().map(\.name) == ["exotic", "garbled", "gender", "lh-age", "lh-gender", "onnx-good", "tampered"])

        let gender = try #require(byName["gender"])
        #expect(gender.state == .serving)
        #expect(gender.error == nil)
        #expect(gender.task == .gender)
        #expect(gender.labels == ["female", "male"])
        #expect(gender.parameters == 48 * 2 + 2 + 2 + 2)
        #expect(gender.inputWidth == 4 && gender.inputChannels == 3)
        #expect(try Self.marker(registry.servingModel(named: "gender")) == 1)
        #expect(registry.health(service: "gender") == .serving)

        #expect(byName["tampered"]?.state == .unavailable)
        #expect(byName["tampered"]?.error?.contains("sha256") == true)
        #expect(byName["tampered"]?.version == "1")
        #expect(registry.servingModel(named: "tampered") == nil)
        #expect(registry.health(service: "tampered") == .notServing)

        #expect(byName["garbled"]?.state == .unavailable)
        #expect(byName["garbled"]?.error?.contains("malformed") == true)
        #expect(byName["exotic"]?.state == .unavailable)
        #expect(byName["exotic"]?.error?.contains("unsupported op") == true)

        #expect(byName["onnx-good"]?.state == .serving)
        #expect(byName["onnx-good"]?.version == "7")
        #expect(try Self.marker(registry.servingModel(named: "onnx-good")) == 4)

        #expect(registry.health(service: "no-such-model") == .unknown)
        #expect(registry.health(service: "") == .serving)
    }

    @Test func trainableModelsAreListedUntilTrained() throws {
        let empty = try TemporaryDirectory()
        for registry in [Self.makeRegistry(nil), Self.makeRegistry(empty)] {
            registry.loadAll()
            let lh = registry.descriptors().filter { $0.name.hasPrefix("lh-") }
            #expect(lh.map(\.name) == ["lh-age", "lh-gender"])
            for d in lh {
                #expect(d.state == .unavailable)
                #expect(d.error == "not trained yet")
                #expect(d.architecture == "levi-hassner")
                #expect(d.inputWidth == 227 && d.inputHeight == 227 && d.inputChannels == 3)
            }
            #expect(lh[0].task == .age && lh[0].labels.count == 8 && lh[0].ageWeights.count == 8)
            #expect(lh[1].task == .gender && lh[1].labels.count == 2)
            #expect(registry.health(service: "lh-age") == .notServing)
            #expect(registry.health(service: "") == .notServing)
            #expect(throws: (any Error).self) { try registry.reload(name: "lh-age") }
            #expect(registry.descriptor(named: "lh-age")?.error == "not trained yet")
        }
    }

    @Test func failedReloadKeepsThePreviousVersion() throws {
        let dir = try TemporaryDirectory()
        try installModel(in: dir.path, name: "gender", version: "1", graph: markedGraph(marker: 1))
        let registry = Self.makeRegistry(dir)
        registry.loadAll()
        #expect(try Self.marker(registry.servingModel(named: "gender")) == 1)

        // 1. Corrupt weights under an unchanged model.json.
        var bytes = try WeightFile.encode(markedGraph(marker: 2))
        bytes[bytes.count / 2] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/gender/weights.frpc"))
        #expect(throws: RegistryError.self) { try registry.reload(name: "gender") }
        #expect(try Self.marker(registry.servingModel(named: "gender")) == 1)
        let afterChecksum = try #require(registry.descriptor(named: "gender"))
        #expect(afterChecksum.state == .serving)
        #expect(afterChecksum.version == "1")
        #expect(afterChecksum.error?.contains("reload failed") == true)
        #expect(registry.health(service: "gender") == .serving)

        // 2. A corrupt file whose checksum model.json vouches for: the reader refuses it.
        try installModel(in: dir.path, name: "gender", version: "2", graph: markedGraph(marker: 2))
        var corrupt = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/gender/weights.frpc"))
        corrupt[100] ^= 0x01
        try corrupt.write(to: URL(fileURLWithPath: dir.path + "/gender/weights.frpc"))
        var manifest = try ModelManifest.load(path: dir.path + "/gender/model.json")
        manifest.sha256 = try ModelRegistry.sha256(ofFile: dir.path + "/gender/weights.frpc")
        try manifest.encoded().write(to: URL(fileURLWithPath: dir.path + "/gender/model.json"))
        do {
            try registry.reload(name: "gender")
            Issue.record("reloaded a corrupt file")
        } catch RegistryError.readFailed(_, let reason) {
            #expect(reason.contains("checksum"))
        }
        #expect(try Self.marker(registry.servingModel(named: "gender")) == 1)

        // 3. An op the executor does not support.
        var unsupported = markedGraph(marker: 3)
        unsupported.nodes.append(GraphNode(name: "unsupported", op: .softmax, inputs: ["y"], outputs: ["z"]))
        try installModel(in: dir.path, name: "gender", version: "3", graph: unsupported)
        #expect(throws: RegistryError.self) { try registry.reload(name: "gender") }
        #expect(try Self.marker(registry.servingModel(named: "gender")) == 1)

        // 4. Output count that does not match the labels.
        try installModel(in: dir.path, name: "gender", version: "4", graph: markedGraph(marker: 4, classes: 3))
        #expect(throws: RegistryError.self) { try registry.reload(name: "gender") }
        #expect(registry.descriptor(named: "gender")?.error?.contains("3 outputs but 2 labels") == true)
        #expect(try Self.marker(registry.servingModel(named: "gender")) == 1)

        // 5. A good version finally replaces it and clears the error.
        try installModel(in: dir.path, name: "gender", version: "5", graph: markedGraph(marker: 5))
        let descriptor = try registry.reload(name: "gender")
        #expect(descriptor.version == "5")
        #expect(registry.descriptor(named: "gender")?.error == nil)
        #expect(try Self.marker(registry.servingModel(named: "gender")) == 5)
    }

    @Test func reloadLoadsNewFoldersAndRefusesUnknownNames() throws {
        let dir = try TemporaryDirectory()
        let registry = Self.makeRegistry(dir)
        registry.loadAll()
        #expect(throws: RegistryError.unknownModel("late")) { try registry.reload(name: "late") }
        #expect(throws: RegistryError.invalidName("../etc")) { try registry.reload(name: "../etc") }
        #expect(registry.health(service: "late") == .unknown)

        try installModel(in: dir.path, name: "late", version: "1", graph: markedGraph(marker: 6))
        #expect(try registry.reload(name: "late").state == .serving)
        #expect(try Self.marker(registry.servingModel(named: "late")) == 6)

        // A model.json copied into the wrong folder is refused by name.
        try FileManager.default.copyItem(atPath: dir.path + "/late", toPath: dir.path + "/copy")
        #expect(throws: RegistryError.nameMismatch(folder: "copy", manifest: "late")) { try registry.reload(name: "copy") }
        #expect(registry.descriptor(named: "copy")?.state == .unavailable)

        // Removing the served folder does not stop the version in memory.
        try FileManager.default.removeItem(atPath: dir.path + "/late")
        #expect(throws: RegistryError.self) { try registry.reload(name: "late") }
        #expect(registry.health(service: "late") == .serving)
        #expect(registry.descriptor(named: "late")?.error?.contains("reload failed") == true)
    }

    @Test func hotSwapNeverFailsACallInFlight() async throws {
        let dir = try TemporaryDirectory()
        try installModel(in: dir.path, name: "gender", version: "1", graph: markedGraph(marker: 1))
        let registry = Self.makeRegistry(dir)
        registry.loadAll()
        let held = try #require(registry.servingModel(named: "gender"))
        weak let oldModel = held.model as? FakeModel
        #expect(oldModel != nil)

        let swapped = Locked(false)
        let results = try await withThrowingTaskGroup(of: (calls: Int, seen: Set<Float>, afterSwap: Float).self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var calls = 0
                    var seen: Set<Float> = []
                    let input = [Float](repeating: 0.5, count: 2 * 48)
                    // Keep calling until the swap is done, then make one more call.
                    while true {
                        let done = swapped.withLock { $0 }
                        guard let serving = registry.servingModel(named: "gender") else { throw RegistryError.unknownModel("gender") }
                        let output = try serving.run(input, batch: 2)
                        guard output.count == 4, let first = output.first, output.allSatisfy({ $0 == first }) else {
                            throw RegistryError.shapeMismatch("bad output \(output)")
                        }
                        seen.insert(first)
                        calls += 1
                        if done { return (calls, seen, first) }
                        await Task.yield()
                    }
                }
            }
            // Swap while the callers run; the registry is synchronous, so do it off the cooperative pool's callers.
            try await Task.sleep(for: .milliseconds(20))
            try installModel(in: dir.path, name: "gender", version: "2", graph: markedGraph(marker: 2))
            try registry.reload(name: "gender")
            swapped.withLock { $0 = true }
            var all: [(calls: Int, seen: Set<Float>, afterSwap: Float)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 8)
        for result in results {
            #expect(result.calls >= 1)
            #expect(result.seen.isSubset(of: [1, 2]))
            #expect(result.afterSwap == 2)
        }
        #expect(results.contains { $0.seen.contains(1) })

        // The old version still answers its holder, then goes away with it.
        #expect(try held.run([Float](repeating: 0, count: 48), batch: 1) == [1, 1])
        #expect(registry.servingModel(named: "gender")?.descriptor.version == "2")
        _ = consume held
        #expect(oldModel == nil)
    }

    @Test func registerStoresVersionsAndPromotes() throws {
        let dir = try TemporaryDirectory()
        let registry = Self.makeRegistry(dir)
        registry.loadAll()
        let template = try #require(TrainableModels.manifest(for: "lh-gender"))
        let lhGraph = { (marker: Float) in markedGraph(marker: marker, classes: 2, input: [3, 227, 227]) }

        let v1 = try registry.register(name: "lh-gender", manifest: template, graph: lhGraph(1), promote: true)
        #expect(v1.version == "1")
        #expect(v1.promoted)
        #expect(v1.directory == dir.path + "/lh-gender/versions/1")
        #expect(try ModelRegistry.sha256(ofFile: v1.directory + "/weights.frpc") == v1.sha256)
        let served = try #require(registry.descriptor(named: "lh-gender"))
        #expect(served.state == .serving)
        #expect(served.error == nil)
        #expect(served.architecture == "levi-hassner")
        #expect(served.format == .frpc)
        #expect(try Self.marker(registry.servingModel(named: "lh-gender")) == 1)
        let top = try ModelManifest.load(path: dir.path + "/lh-gender/model.json")
        #expect(top.version == "1" && top.weights == "weights-1.frpc" && top.sha256 == v1.sha256)

        // A second version, stored only; then promoted; the older link is tidied.
        let v2 = try registry.register(name: "lh-gender", manifest: template, graph: lhGraph(2), promote: false)
        #expect(v2.version == "2" && !v2.promoted)
        #expect(try Self.marker(registry.servingModel(named: "lh-gender")) == 1)
        try registry.promote(name: "lh-gender", version: "2")
        #expect(try Self.marker(registry.servingModel(named: "lh-gender")) == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/lh-gender/weights-1.frpc"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/lh-gender/versions/1/weights.frpc"))

        // Versions are immutable; unknown versions cannot be promoted.
        var fixed = template
        fixed.version = "2"
        #expect(throws: RegistryError.versionExists(name: "lh-gender", version: "2")) {
            try registry.register(name: "lh-gender", manifest: fixed, graph: lhGraph(3), promote: true)
        }
        #expect(throws: RegistryError.unknownVersion(name: "lh-gender", version: "9")) {
            try registry.promote(name: "lh-gender", version: "9")
        }
        // A version the compiler refuses is stored but not promoted.
        var bad = lhGraph(4)
        bad.nodes.append(GraphNode(name: "unsupported", op: .relu, inputs: ["y"], outputs: ["z"]))
        #expect(throws: RegistryError.self) {
            try registry.register(name: "lh-gender", manifest: template, graph: bad, promote: true)
        }
        #expect(try Self.marker(registry.servingModel(named: "lh-gender")) == 2)

        // Rollback, and a fresh registry over the same directory serves what is promoted.
        try registry.promote(name: "lh-gender", version: "1")
        let restarted = Self.makeRegistry(dir)
        restarted.loadAll()
        #expect(restarted.descriptor(named: "lh-gender")?.version == "1")
        #expect(try Self.marker(restarted.servingModel(named: "lh-gender")) == 1)
        #expect(restarted.descriptor(named: "lh-age")?.error == "not trained yet")
    }

    @Test func registerRejectsBadInput() throws {
        let dir = try TemporaryDirectory()
        let registry = Self.makeRegistry(dir)
        let template = try #require(TrainableModels.manifest(for: "lh-gender"))
        #expect(throws: RegistryError.invalidName("../escape")) {
            try registry.register(name: "../escape", manifest: template, graph: markedGraph(marker: 1), promote: false)
        }
        var badVersion = template
        badVersion.version = ".."
        #expect(throws: RegistryError.self) {
            try registry.register(name: "lh-gender", manifest: badVersion, graph: markedGraph(marker: 1), promote: false)
        }
        // The graph's input (3x4x4) does not match the 227x227 template: stored, not promoted.
        #expect(throws: RegistryError.self) {
            try registry.register(name: "lh-gender", manifest: template, graph: markedGraph(marker: 1), promote: true)
        }
        #expect(registry.servingModel(named: "lh-gender") == nil)
        let noDir = Self.makeRegistry(nil)
        #expect(throws: RegistryError.noModelsDirectory) {
            try noDir.register(name: "lh-gender", manifest: template, graph: markedGraph(marker: 1), promote: false)
        }
    }

    @Test func preprocessingFollowsTheManifest() throws {
        var manifest = genderManifest(name: "g", version: "1", weights: "w.frpc", sha256: String(repeating: "0", count: 64))
        manifest.input = .init(width: 2, height: 1, channels: 3, color: .bgr, mean: [10, 20, 30], scale: 0.5)
        let p = Preprocessing(manifest: manifest)
        // Two pixels, RGB: (100, 50, 0) and (0, 50, 100).
        let tensor = try #require(p.tensor(fromRGB: [100, 50, 0, 0, 50, 100]))
        // BGR planes: B then G then R, each (byte - mean[c]) * scale.
        let blue: [Float] = [0, 100], green: [Float] = [50, 50], red: [Float] = [100, 0]
        let expected = blue.map { ($0 - 10) * 0.5 } + green.map { ($0 - 20) * 0.5 } + red.map { ($0 - 30) * 0.5 }
        #expect(tensor == expected)
        #expect(p.tensor(fromRGB: [1, 2, 3]) == nil)
    }
}
