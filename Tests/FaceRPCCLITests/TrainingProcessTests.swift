import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import Foundation
import Testing

/// Where ../shared sits for these tests (the repository's sibling).
private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
private let utkface = repoRoot + "/../shared/data/utkface"
private let utkfaceAvailable = FileManager.default.fileExists(atPath: utkface + "/labels_train.csv")

/// A data root with a small UTKFace CSV dataset copied in (copies, not
/// symlinks: the data root refuses links that leave it).
struct SmallDataset {
    let root: String

    /// `train` training rows and `validation` validation rows, alternating genders so both classes are present.
    init(train: Int, validation: Int) throws {
        var template = Array("/tmp/facerpc-data-XXXXXX".utf8CString)
        root = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        try FileManager.default.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        func rows(_ csv: String, _ count: Int) throws -> String {
            let lines = try String(contentsOfFile: utkface + "/" + csv, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
            var female: [Substring] = [], male: [Substring] = []
            for line in lines {
                let fields = line.split(separator: ",")
                guard fields.count >= 3 else { continue }
                if fields[2] == "female" { female.append(line) } else if fields[2] == "male" { male.append(line) }
            }
            var out = "path,age,gender\n"
            for i in 0..<count {
                let line = i % 2 == 0 ? female[i / 2 * 7 % female.count] : male[i / 2 * 7 % male.count]
                let fields = line.split(separator: ",")
                let path = String(fields[0])
                let destination = root + "/" + path
                if !FileManager.default.fileExists(atPath: destination) {
                    try FileManager.default.copyItem(atPath: utkface + "/" + path, toPath: destination)
                }
                out += "\(path),\(fields[1]),\(fields[2])\n"
            }
            return out
        }
        try rows("labels_train.csv", train).write(toFile: root + "/train.csv", atomically: true, encoding: .utf8)
        try rows("labels_eval.csv", validation).write(toFile: root + "/val.csv", atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

private func temporaryFolder(_ prefix: String) -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
}

private func start(_ connection: FaceRPCConnection, _ request: TrainRequest) async throws -> TrainStatus {
    try TrainStatus(serializedBytes: try await connection.unary(method: Methods.trainStart, request: request.serializedBytes(),
                                                                timeout: .seconds(60)))
}

private func status(_ connection: FaceRPCConnection, _ job: String) async throws -> TrainStatus {
    try TrainStatus(serializedBytes: try await connection.unary(method: Methods.trainStatus,
                                                                request: TrainJobRequest(jobID: job).serializedBytes()))
}

/// Every update of a job until it ends.
private func watch(_ connection: FaceRPCConnection, _ job: String, until stop: (TrainStatus) -> Bool = { _ in false }) async throws -> [TrainStatus] {
    var updates: [TrainStatus] = []
    for try await payload in connection.serverStreaming(method: Methods.trainWatch, request: TrainJobRequest(jobID: job).serializedBytes(),
                                                        timeout: .seconds(600)) {
        let s = try TrainStatus(serializedBytes: payload)
        updates.append(s)
        if stop(s) { break }
    }
    return updates
}

private func gender(steps: UInt32, batch: UInt32, checkpointEvery: UInt32, model: String) -> TrainRequest {
    var request = TrainRequest()
    request.task = .gender
    request.data = "train.csv"
    request.validationData = "val.csv"
    request.steps = steps
    request.batchSize = batch
    request.checkpointEvery = checkpointEvery
    request.optimizer = .adam
    request.learningRate = 1e-4
    request.modelName = model
    request.threads = 2
    request.seed = 11
    return request
}

/// Training as a client sees it: a real server process, real sockets, real files.
@Suite(.serialized, .enabled(if: utkfaceAvailable, "../shared/data/utkface not found"))
struct TrainingProcessTests {
    @Test("a gender job started over RPC streams progress, learns, is evaluated, promoted, and then answers Predict")
    func trainEvaluatePromotePredict() async throws {
        let data = try SmallDataset(train: 64, validation: 32)
        defer { data.remove() }
        let state = temporaryFolder("facerpc-state"), models = temporaryFolder("facerpc-models")
        defer { try? FileManager.default.removeItem(atPath: state); try? FileManager.default.removeItem(atPath: models) }
        // The installed models (pretrained age, landmarks, detector) beside the one we train, so Predict can name both.
        if let installed = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] {
            let folder = URL(fileURLWithPath: installed).standardizedFileURL.path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !name.hasPrefix("lh-") {
                try? FileManager.default.createSymbolicLink(atPath: models + "/" + name, withDestinationPath: folder + "/" + name)
            }
        }
        let server = try ServeProcessTests.ServeProcess(extraArguments: ["--data-root", data.root, "--state-dir", state], models: models)
        defer { server.stop() }
        let connection = try await FaceRPCConnection.connect(to: .unixPath(server.unixPath))

        var request = gender(steps: 24, batch: 16, checkpointEvery: 8, model: "lh-gender-ci")
        request.promote = true
        let started = try await start(connection, request)
        #expect(started.state == .running && started.jobID.hasPrefix("job-") && started.model == "lh-gender-ci")

        // Only one job at a time.
        let second = await #expect(throws: RPCError.self) { _ = try await start(connection, request) }
        #expect(second?.code == .failedPrecondition)

        let updates = try await watch(connection, started.jobID)
        let final = try #require(updates.last)
        #expect(final.state == .succeeded, "\(final.error)")
        #expect(final.step == 24 && final.totalSteps == 24)
        #expect(final.version == "1")
        // Live: one update per step at least, steps never going back.
        let steps = updates.map(\.step)
        #expect(Set(steps).count >= 20)
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(updates.contains { $0.checkpoint.contains("step-000000016.ckpt") })
        #expect(updates.allSatisfy { $0.loss.isFinite && $0.examplesPerSecond >= 0 })
        // Learning: the smoothed loss of the last steps is below the first steps' loss (ln 2 ≈ 0.69 at the start).
        let first = updates.first { $0.step == 1 }!
        #expect(final.lossAvg < first.loss, "loss avg \(final.lossAvg) vs first \(first.loss)")

        let report = try TrainReport(serializedBytes: try await connection.unary(
            method: Methods.trainReport, request: TrainJobRequest(jobID: started.jobID).serializedBytes()))
        #expect(report.examples == 32 && report.labels == ["female", "male"])
        #expect(report.confusion.reduce(0, +) == 32)
        #expect(report.classes.map(\.support) == [16, 16])
        #expect(report.curve.count == 24 && report.curve.last?.step == 24)
        #expect(abs(report.accuracy - final.valAccuracy) < 1e-6)

        // The CLI: status JSON, report text, plot.
        let json = try ServeProcessTests.cli(["train-status", "--unix", server.unixPath, started.jobID, "--json"])
        #expect(json.code == 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        for key in ["job", "model", "state", "step", "total_steps", "epoch", "loss", "loss_avg", "train_accuracy", "val_accuracy",
                    "learning_rate", "examples_per_second", "eta_seconds", "checkpoint", "error"] {
            #expect(object?[key] != nil, "missing key \(key)")
        }
        #expect(object?["state"] as? String == "succeeded")
        let plot = state + "/curves.svg"
        let text = try ServeProcessTests.cli(["train-report", "--unix", server.unixPath, started.jobID, "--plot", plot])
        #expect(text.code == 0)
        #expect(text.output.contains("precision") && text.output.contains("confusion matrix") && text.output.contains("female"))
        #expect(text.output.contains("male") && text.output.contains("accuracy") && text.output.contains("baseline"))
        #expect(!text.output.contains("one-off"), "one-off accuracy is for age only")
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("<polyline"))

        // Promoted: Predict names the model and gets its answer (a chip, no detection).
        let modelsList = try await connection.listModels()
        #expect(modelsList.contains { $0.name == "lh-gender-ci" && $0.state == .serving && $0.version == "1" })
        let chip = try Data(contentsOf: URL(fileURLWithPath: data.root + "/" + (try String(contentsOfFile: data.root + "/val.csv", encoding: .utf8)
            .split(separator: "\n")[1].split(separator: ",")[0])))
        var predict = PredictRequest()
        predict.image = .jpeg([UInt8](chip))
        var options = PredictOptions()
        options.genderModel = "lh-gender-ci"
        options.ageModel = "age"
        options.faceCrop = true
        predict.options = options
        do {
            let response = try await connection.predict(predict)
            let face = try #require(response.faces.first)
            #expect(face.gender?.label == .female || face.gender?.label == .male)
        } catch let error as RPCError where ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] == nil {
            // Without the installed models (FACERPC_MODELS_DIR), Predict can only say what is missing.
            #expect(error.code == .notFound || error.code == .unavailable, "\(error)")
        }
        await connection.close()
    }

    @Test("a job survives kill -9: the restarted server resumes it from its last checkpoint and finishes it")
    func killDashNineResumes() async throws {
        let data = try SmallDataset(train: 32, validation: 8)
        defer { data.remove() }
        let state = temporaryFolder("facerpc-state"), models = temporaryFolder("facerpc-models")
        defer { try? FileManager.default.removeItem(atPath: state); try? FileManager.default.removeItem(atPath: models) }
        let arguments = ["--data-root", data.root, "--state-dir", state]
        let first = try ServeProcessTests.ServeProcess(extraArguments: arguments, models: models)
        let connection = try await FaceRPCConnection.connect(to: .unixPath(first.unixPath))
        let started = try await start(connection, gender(steps: 16, batch: 8, checkpointEvery: 4, model: "lh-gender-kill"))
        // Wait for the second checkpoint, then kill -9 mid-run.
        let seen = try await watch(connection, started.jobID) { $0.step >= 9 || $0.state != .running }
        let atKill = try #require(seen.last)
        #expect(atKill.state == .running && atKill.checkpoint.contains("step-000000008.ckpt"))
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        await connection.close()

        let second = try ServeProcessTests.ServeProcess(extraArguments: arguments, models: models)
        defer { second.stop(); first.stop() }
        let again = try await FaceRPCConnection.connect(to: .unixPath(second.unixPath))
        let updates = try await watch(again, started.jobID)
        let resumedAt = try #require(updates.first { $0.state == .running && $0.step > 0 })
        // It resumed from step 8 (the last checkpoint), not from 0, and lost at most checkpoint_every steps.
        #expect(resumedAt.step >= 8 && resumedAt.step <= atKill.step + 1, "resumed at \(resumedAt.step)")
        #expect(!updates.contains { $0.step > 0 && $0.step < 8 })
        let final = try #require(updates.last)
        #expect(final.state == .succeeded && final.step == 16, "\(final.error)")
        await again.close()
    }

    @Test("bad requests get a status code and a message; cancel stops with a checkpoint")
    func refusalsAndCancel() async throws {
        let data = try SmallDataset(train: 16, validation: 8)
        defer { data.remove() }
        let state = temporaryFolder("facerpc-state")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let server = try ServeProcessTests.ServeProcess(extraArguments: ["--data-root", data.root, "--state-dir", state])
        defer { server.stop() }
        let connection = try await FaceRPCConnection.connect(to: .unixPath(server.unixPath))

        func refused(_ change: (inout TrainRequest) -> Void) async -> RPCError? {
            var request = gender(steps: 4, batch: 4, checkpointEvery: 2, model: "lh-x")
            change(&request)
            return await #expect(throws: RPCError.self) { _ = try await start(connection, request) }
        }
        #expect(await refused { $0.data = "../etc/passwd" }?.code == .invalidArgument)
        #expect(await refused { $0.data = "/etc/passwd" }?.code == .invalidArgument)
        #expect(await refused { $0.data = "missing.csv" }?.code == .notFound)
        #expect(await refused { $0.task = .unspecified }?.code == .invalidArgument)
        #expect(await refused { $0.batchSize = 100_000 }?.code == .invalidArgument)
        #expect(await refused { $0.modelName = "../../x" }?.code == .invalidArgument)
        #expect(await refused { $0.dropout = 1.5 }?.code == .invalidArgument)

        let unknown = await #expect(throws: RPCError.self) { _ = try await status(connection, "job-nope") }
        #expect(unknown?.code == .notFound)
        let traversal = await #expect(throws: RPCError.self) { _ = try await status(connection, "../../etc") }
        #expect(traversal?.code == .notFound)

        let started = try await start(connection, gender(steps: 1000, batch: 4, checkpointEvery: 500, model: "lh-cancel"))
        _ = try await watch(connection, started.jobID) { $0.step >= 2 }
        let notYet = await #expect(throws: RPCError.self) {
            _ = try await connection.unary(method: Methods.trainReport, request: TrainJobRequest(jobID: started.jobID).serializedBytes())
        }
        #expect(notYet?.code == .failedPrecondition)
        _ = try await connection.unary(method: Methods.trainCancel, request: TrainJobRequest(jobID: started.jobID).serializedBytes())
        let final = try #require(try await watch(connection, started.jobID).last)
        #expect(final.state == .cancelled)
        #expect(final.checkpoint.hasSuffix(".ckpt") && final.step < 1000)
        // The newest job is the default of GetStatus.
        #expect(try await status(connection, "").jobID == started.jobID)
        await connection.close()
    }
}

/// A server without --data-root refuses to train, clearly.
@Suite struct TrainingOffTests {
    @Test func startWithoutDataRootIsFailedPrecondition() async throws {
        let server = try ServeProcessTests.ServeProcess()
        defer { server.stop() }
        let connection = try await FaceRPCConnection.connect(to: .unixPath(server.unixPath))
        var request = TrainRequest()
        request.task = .gender
        request.data = "x.csv"
        let error = await #expect(throws: RPCError.self) { _ = try await start(connection, request) }
        #expect(error?.code == .failedPrecondition && error?.message.contains("--data-root") == true)
        let missing = await #expect(throws: RPCError.self) { _ = try await status(connection, "") }
        #expect(missing?.code == .notFound)
        await connection.close()
        // The CLI: 1 when the server refuses, 2 when there is no server.
        #expect(try ServeProcessTests.cli(["train-status", "--unix", server.unixPath]).code == 1)
        #expect(try ServeProcessTests.cli(["train-status", "--unix", server.folder + "/nothing.sock"]).code == 2)
    }
}
