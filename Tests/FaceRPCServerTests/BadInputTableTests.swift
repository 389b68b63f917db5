import FaceRPCCore
import FaceRPCPredict
import FaceRPCProtos
import FaceRPCRegistry
import FaceRPCServer
import FaceRPCTraining
import Foundation
import Logging
import Testing

/// docs/BAD-INPUTS.md as a test: every row of its table is a case here, sent
/// to a real server (predict and training on, real sockets), and must get the
/// documented status code and a message containing the documented words; the
/// server must go on serving (the same connection, unless the row says it
/// closes, and a new one always). A second test keeps the document and this
/// table identical.
struct BadInput: Sendable, CustomTestStringConvertible {
    enum Send: Sendable {
        /// Bytes written to the socket as they are.
        case bytes([UInt8])
        /// One request envelope, framed.
        case envelope(RequestEnvelope)
        /// Two envelopes back to back (for rows about the second).
        case envelopes([RequestEnvelope])
    }

    let id: String
    let what: String
    let send: Send
    let code: StatusCode
    /// Words the status message must contain.
    let fragment: String
    /// The server closes the connection after answering.
    let closes: Bool

    init(_ id: String, _ what: String, _ send: Send, _ code: StatusCode, _ fragment: String, closes: Bool = false) {
        self.id = id; self.what = what; self.send = send; self.code = code; self.fragment = fragment; self.closes = closes
    }

    var testDescription: String { "\(id): \(what)" }
}

private func call(_ method: String, _ payload: [UInt8] = [], id: UInt64 = 7, timeoutMicros: UInt64 = 30_000_000,
                  metadata: [MetadataEntry] = []) -> BadInput.Send {
    var envelope = request(id, method, payload, timeoutMicros: timeoutMicros)
    envelope.metadata = metadata
    return .envelope(envelope)
}

private func predict(_ configure: (inout PredictRequest) -> Void) -> BadInput.Send {
    var request = PredictRequest()
    configure(&request)
    return call(Methods.predict, request.serializedBytes())
}

private func predictOptions(_ configure: (inout PredictOptions) -> Void) -> BadInput.Send {
    predict { request in
        request.image = .jpeg(tinyJPEG)
        var options = PredictOptions()
        configure(&options)
        request.options = options
    }
}

private func train(_ configure: (inout TrainRequest) -> Void) -> BadInput.Send {
    var request = TrainRequest()
    request.task = .gender
    request.data = "train.csv"
    request.steps = 1
    configure(&request)
    return call(Methods.trainStart, request.serializedBytes())
}

private func job(_ method: String, _ id: String) -> BadInput.Send {
    call(method, TrainJobRequest(jobID: id).serializedBytes())
}

private func frame(length: UInt32) -> [UInt8] { withUnsafeBytes(of: length.bigEndian) { Array($0) } }

/// A 16 × 16 gray JPEG (the image fixtures' smallest).
private let tinyJPEG: [UInt8] = {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FaceRPCImageTests/Fixtures/gray.jpg").path
    return Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data())
}()

/// A baseline JPEG header (SOI, SOF0) declaring 65000 × 65000: refused from the header.
private let hugeHeaderJPEG: [UInt8] = {
    var bytes = tinyJPEG
    // Patch the SOF0 frame's height and width (FF C0, length, precision, height, width).
    if let sof = (0..<(bytes.count - 9)).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }) {
        bytes[sof + 5] = 0xFD; bytes[sof + 6] = 0xE8; bytes[sof + 7] = 0xFD; bytes[sof + 8] = 0xE8
    }
    return bytes
}()

private let badInputs: [BadInput] = [
    // Framing
    BadInput("F1", "length prefix 0xFFFFFFFF", .bytes(frame(length: .max)), .resourceExhausted, "exceeds", closes: true),
    BadInput("F2", "length prefix one byte over the 4 MiB frame limit", .bytes(frame(length: 4 << 20 + 1)),
             .resourceExhausted, "exceeds", closes: true),
    BadInput("F3", "a frame whose body is not a RequestEnvelope", .bytes(frame(length: 7) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x12]),
             .invalidArgument, "RequestEnvelope"),
    BadInput("F4", "an empty frame (a RequestEnvelope with call id 0)", .bytes(frame(length: 0)), .invalidArgument, "call_id"),
    // Envelope
    BadInput("E1", "call id 0", call(Methods.healthCheck, id: 0), .invalidArgument, "call_id"),
    BadInput("E2", "empty method", call(""), .invalidArgument, "missing method"),
    BadInput("E3", "method of 300 bytes (limit 256)", call("/" + String(repeating: "m", count: 299)), .invalidArgument, "method"),
    BadInput("E4", "65 metadata entries (limit 64)",
             call(Methods.healthCheck, metadata: (0..<65).map { MetadataEntry(key: "k\($0)", value: "v") }), .invalidArgument, "metadata"),
    BadInput("E5", "9 KiB of metadata (limit 8 KiB)",
             call(Methods.healthCheck, metadata: [MetadataEntry(key: "k", value: String(repeating: "v", count: 9 << 10))]),
             .invalidArgument, "metadata"),
    BadInput("E6", "a call id already in flight on the connection", .envelopes([
        { var s = SleepRequest(); s.millis = 300; return request(9, Methods.debugSleep, s.serializedBytes(), timeoutMicros: 5_000_000) }(),
        request(9, Methods.healthCheck, [], timeoutMicros: 5_000_000),
    ]), .invalidArgument, "reused while that call is in flight"),
    // Methods
    BadInput("M1", "unknown method", call("/facerpc.v1.Nope/Nope"), .unimplemented, "/facerpc.v1.Nope/Nope"),
    BadInput("M2", "a known service with an unknown method", call("/facerpc.v1.Health/Nope"), .unimplemented, "Nope"),
    // Protobuf payloads
    BadInput("P1", "HealthCheckRequest with a string cut short", call(Methods.healthCheck, [0x0A, 0x05, 0x61]),
             .invalidArgument, "HealthCheckRequest"),
    BadInput("P2", "PredictRequest field with the wrong wire type", call(Methods.predict, [0x0D, 1, 2, 3, 4]),
             .invalidArgument, "PredictRequest"),
    BadInput("P3", "invalid UTF-8 in PredictOptions.age_model", call(Methods.predict, [0x1A, 0x04, 0x0A, 0x02, 0xC3, 0x28]),
             .invalidArgument, "age_model"),
    BadInput("P4", "TrainRequest of 1,000,000 empty unknown fields (over the decode memory budget)",
             call(Methods.trainStart, Array(repeating: [0xFA, 0x01, 0x00], count: 1_000_000).flatMap { $0 }),
             .invalidArgument, "TrainRequest"),
    // Deadlines
    BadInput("D1", "a 2 s Debug/Sleep with a 100 ms deadline",
             call(Methods.debugSleep, { var s = SleepRequest(); s.millis = 2000; return s.serializedBytes() }(), timeoutMicros: 100_000),
             .deadlineExceeded, "deadline"),
    BadInput("D2", "Predict with a 1 µs deadline", {
        var r = PredictRequest(); r.image = .jpeg(tinyJPEG)
        return call(Methods.predict, r.serializedBytes(), timeoutMicros: 1)
    }(), .deadlineExceeded, "deadline"),
    // Images
    BadInput("I1", "Predict without an image", predict { _ in }, .invalidArgument, "image"),
    BadInput("I2", "an empty JPEG", predict { $0.image = .jpeg([]) }, .invalidArgument, "empty"),
    BadInput("I3", "a PNG instead of a JPEG", predict { $0.image = .jpeg([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]) },
             .invalidArgument, "PNG"),
    BadInput("I4", "text instead of a JPEG", predict { $0.image = .jpeg(Array("hello, not an image".utf8)) }, .invalidArgument, "JPEG"),
    BadInput("I5", "a JPEG cut in half", predict { $0.image = .jpeg(Array(tinyJPEG.prefix(tinyJPEG.count / 2))) }, .invalidArgument, "JPEG"),
    BadInput("I6", "a JPEG header declaring 65000 × 65000", predict { $0.image = .jpeg(hugeHeaderJPEG) }, .invalidArgument, "65000"),
    BadInput("I7", "raw RGB with a stride below 3 × width", predict {
        var raw = FaceRPCProtos.RawImage(); raw.width = 10; raw.height = 10; raw.stride = 20
        raw.rgb = [UInt8](repeating: 0, count: 300); $0.image = .raw(raw)
    }, .invalidArgument, "stride"),
    BadInput("I8", "raw RGB of 10000 × 10000 (over the pixel limit)", predict {
        var raw = FaceRPCProtos.RawImage(); raw.width = 10_000; raw.height = 10_000; raw.rgb = [1, 2, 3]; $0.image = .raw(raw)
    }, .invalidArgument, "pixels"),
    BadInput("I9", "an unknown model name", predictOptions { $0.ageModel = "no-such-model" }, .notFound, "no-such-model"),
    BadInput("I10", "a model that is not trained yet", predictOptions { $0.ageModel = "lh-age" }, .unavailable, "lh-age"),
    BadInput("I11", "a gender model named as the age model", predictOptions { $0.ageModel = "gender" }, .invalidArgument, "gender"),
    BadInput("I12", "max_faces 100000", predictOptions { $0.maxFaces = 100_000 }, .invalidArgument, "max_faces"),
    BadInput("I13", "score_threshold 1.5", predictOptions { $0.scoreThreshold = 1.5 }, .invalidArgument, "score_threshold"),
    // Training requests
    BadInput("T1", "Start without a task", train { $0.task = .unspecified }, .invalidArgument, "task"),
    BadInput("T2", "an unknown optimizer number", train { $0.optimizer = .unrecognized(9) }, .invalidArgument, "optimizer"),
    BadInput("T3", "batch_size 100000", train { $0.batchSize = 100_000 }, .invalidArgument, "batch_size"),
    BadInput("T4", "dropout 1.5", train { $0.dropout = 1.5 }, .invalidArgument, "dropout"),
    BadInput("T5", "a model name with path syntax", train { $0.modelName = "../x" }, .invalidArgument, "model_name"),
    BadInput("T6", "GetStatus of an unknown job", job(Methods.trainStatus, "job-nope"), .notFound, "job-nope"),
    BadInput("T7", "GetReport of an unknown job", job(Methods.trainReport, "job-nope"), .notFound, "job-nope"),
    BadInput("T8", "Cancel with a job id that is a path", job(Methods.trainCancel, "../../etc"), .notFound, "../../etc"),
    // Paths
    BadInput("X1", "dataset path escaping with ..", train { $0.data = "../x.csv" }, .invalidArgument, "outside the data root"),
    BadInput("X2", "absolute dataset path", train { $0.data = "/etc/passwd" }, .invalidArgument, "/etc/passwd"),
    BadInput("X3", "a symlink inside the data root pointing outside it", train { $0.data = "escape.csv" }, .invalidArgument,
             "outside the data root"),
    BadInput("X4", "a NUL byte in the dataset path (protobuf-c strings end at the first NUL)", train { $0.data = "nothing\u{0}.csv" },
             .notFound, "'nothing'"),
    BadInput("X5", "a 5000-byte dataset path", train { $0.data = String(repeating: "a/", count: 2500) }, .invalidArgument, "bytes"),
    BadInput("X6", "a dataset that does not exist", train { $0.data = "missing.csv" }, .notFound, "missing.csv"),
    BadInput("X7", "a validation CSV outside the data root", train { $0.validationData = "../../v.csv" }, .invalidArgument,
             "outside the data root"),
]

/// The installed models (make test provides them).
private let modelsDirectory = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] ?? "models"
private let modelsInstalled = FileManager.default.fileExists(atPath: modelsDirectory + "/age/model.json")

@Suite(.serialized, .enabled(if: modelsInstalled, "models not installed: run scripts/setup.sh"))
struct BadInputTableTests {
    /// One server for every row: Predict over the installed models, training over a data root with an escaping symlink.
    static let server: (TestServer, String)? = {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (TestServer, String)?
        Task.detached {
            do {
                var logger = Logger(label: "bad-inputs")
                logger.logLevel = .critical
                let data = try makeTemporaryFolder()
                try "path,age,gender\n".write(toFile: data + "/train.csv", atomically: true, encoding: .utf8)
                try "path,age,gender\n".write(toFile: data + "/../facerpc-outside.csv", atomically: true, encoding: .utf8)
                try FileManager.default.createSymbolicLink(atPath: data + "/escape.csv", withDestinationPath: data + "/../facerpc-outside.csv")
                let registry = ModelRegistry.engine(modelsDirectory: modelsDirectory, threads: 2, logger: logger)
                registry.loadAll()
                let predict = PredictService(registry: registry, modelsDirectory: modelsDirectory, networkThreads: 2, logger: logger)
                let jobs = try TrainingJobManager(stateDirectory: data + "/state", dataRoot: try DataRoot(path: data), publisher: nil,
                                                  logger: logger)
                let server = try await TestServer.start(services: [predict, TrainingService(manager: jobs, defaultThreads: 1)])
                result = (server, data)
            } catch {
                Issue.record("cannot start the bad-input server: \(error)")
            }
            semaphore.signal()
        }
        semaphore.wait()
        return result
    }()

    @Test("every bad input gets its documented status and message, and the server keeps serving", arguments: badInputs)
    func row(_ input: BadInput) async throws {
        let (server, _) = try #require(Self.server)
        let socket = try RawSocket(server.unix)
        switch input.send {
        case .bytes(let bytes): socket.send(bytes)
        case .envelope(let envelope): socket.sendRequest(envelope)
        case .envelopes(let envelopes): envelopes.forEach(socket.sendRequest)
        }
        var answer: ResponseEnvelope?
        // For E6 the refusal of the second call may come before or after the first call's answer.
        for _ in 0..<3 {
            answer = await socket.readResponse(timeout: 20)
            if let code = answer?.status?.code, code != StatusCode.ok.rawValue { break }
        }
        let response = try #require(answer, "no answer")
        let status = try #require(response.status)
        #expect(StatusCode(rawValue: status.code) == input.code, "\(input.id): got \(StatusCode(rawValue: status.code)) \(status.message)")
        #expect(status.message.contains(input.fragment), "\(input.id): message \"\(status.message)\" lacks \"\(input.fragment)\"")
        if input.closes {
            #expect(await socket.waitForClose(timeout: 5), "\(input.id): connection stays open")
        } else {
            socket.sendRequest(request(100, Methods.healthCheck))
            var health = await socket.readResponse(timeout: 10)
            while let h = health, h.callID != 100 { health = await socket.readResponse(timeout: 10) }
            #expect(health?.status?.code == StatusCode.ok.rawValue, "\(input.id): the connection did not survive")
        }
        let fresh = try RawSocket(server.tcp)
        fresh.sendRequest(request(1, Methods.healthCheck))
        #expect(await fresh.readResponse()?.status?.code == StatusCode.ok.rawValue, "\(input.id): the server stopped serving")
    }

    @Test("docs/BAD-INPUTS.md lists exactly these rows, with the same codes and words")
    func documentMatchesTable() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/BAD-INPUTS.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var documented: [String: (code: String, fragment: String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            // | id | area | input | status | message contains | connection |
            guard cells.count >= 7, cells[1].first?.isUppercase == true, cells[1].count <= 3, cells[1] != "id" else { continue }
            documented[cells[1]] = (cells[4], cells[5].trimmingCharacters(in: CharacterSet(charactersIn: "`")))
        }
        #expect(documented.count >= 25)
        #expect(Set(documented.keys) == Set(badInputs.map(\.id)), "rows differ: \(Set(documented.keys).symmetricDifference(badInputs.map(\.id)))")
        for input in badInputs {
            #expect(documented[input.id]?.code == input.code.description, "\(input.id) code")
            #expect(documented[input.id]?.fragment == input.fragment, "\(input.id) fragment")
        }
    }
}
