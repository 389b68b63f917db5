import FaceRPCProtos
import Foundation
import Testing

/// Checks the bytes against the protobuf wire format itself: a fixed encoding
/// worked out by hand, and, where `protoc-c` and Python's `protobuf` package
/// are installed, the reference runtime encoding the same messages.
@Suite("Wire compatibility")
struct WireCompatibilityTests {
    @Test("A small RequestEnvelope has the hand-derived encoding")
    func goldenRequest() throws {
        var request = RequestEnvelope()
        request.callID = 1
        request.method = "/facerpc.v1.Health/Check"
        // Field 1 varint (0x08) = 1; field 2 length-delimited (0x12), 24 bytes of ASCII.
        let expected: [UInt8] = [0x08, 0x01, 0x12, 0x18] + Array("/facerpc.v1.Health/Check".utf8)
        #expect(request.serializedBytes() == expected)
        #expect(try RequestEnvelope(serializedBytes: expected) == request)
    }

    @Test("Varints, fixed32 floats, packed floats and negative enums have the spec's encoding")
    func goldenScalars() throws {
        var response = ResponseEnvelope()
        response.callID = 300  // varint 0xAC 0x02
        response.endOfStream = true
        #expect(response.serializedBytes() == [0x08, 0xAC, 0x02, 0x20, 0x01])

        var age = AgeEstimate()
        age.years = 1.0  // fixed32 little-endian 0x3F800000
        age.bucket = .unrecognized(-1)  // int32 -1 is a 10-byte varint
        age.distribution = [0.5, 2.0]  // packed: tag 0x22, 8 bytes
        let expected: [UInt8] = [0x0D, 0x00, 0x00, 0x80, 0x3F]
            + [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
            + [0x22, 0x08, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x40]
        #expect(age.serializedBytes() == expected)
        #expect(try AgeEstimate(serializedBytes: expected) == age)
        // Unpacked repeated floats (an older encoder) decode the same.
        let unpacked: [UInt8] = [0x25, 0x00, 0x00, 0x00, 0x3F, 0x25, 0x00, 0x00, 0x00, 0x40]
        #expect(try AgeEstimate(serializedBytes: unpacked).distribution == [0.5, 2.0])
    }

    @Test("A string is encoded up to its first NUL (protobuf-c keeps C strings)")
    func embeddedNUL() throws {
        let status = Status(code: 1, message: "a\u{0}b")
        #expect(status.serializedBytes() == [0x08, 0x01, 0x12, 0x01, 0x61])
        #expect(try Status(serializedBytes: [0x12, 0x03, 0x61, 0x00, 0x62]).message == "a")
    }

    // MARK: - Against the reference runtime

    /// One message, as Swift builds it and as protobuf JSON for Python.
    struct Case: CustomTestStringConvertible, Sendable {
        var protoName: String
        var json: String
        var message: any ProtoMessage
        var testDescription: String { protoName }
    }

    static let cases: [Case] = {
        let payload: [UInt8] = [0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF]
        let b64 = Data(payload).base64EncodedString()
        var cases: [Case] = []

        var request = RequestEnvelope()
        request.callID = 1
        request.method = "/facerpc.v1.Health/Check"
        cases.append(Case(protoName: "facerpc.v1.RequestEnvelope",
                          json: #"{"callId": "1", "method": "/facerpc.v1.Health/Check"}"#, message: request))

        request.callID = .max
        request.method = "/facerpc.v1.Predict/Predict 年齢"
        request.timeoutMicros = 1_500_000
        request.metadata = [MetadataEntry(key: "x-trace", value: "👩🏽‍🔬"), MetadataEntry(key: "e", value: "")]
        request.payload = payload
        request.cancel = true
        cases.append(Case(protoName: "facerpc.v1.RequestEnvelope", json: """
            {"callId": "18446744073709551615", "method": "/facerpc.v1.Predict/Predict 年齢",
             "timeoutMicros": "1500000", "metadata": [{"key": "x-trace", "value": "👩🏽‍🔬"}, {"key": "e"}],
             "payload": "\(b64)", "cancel": true}
            """, message: request))

        var response = ResponseEnvelope()
        response.callID = 9
        response.status = Status(code: 5, message: "no model «x»")
        response.payload = payload
        response.endOfStream = true
        response.trailers = [MetadataEntry(key: "k", value: "v")]
        cases.append(Case(protoName: "facerpc.v1.ResponseEnvelope", json: """
            {"callId": "9", "status": {"code": 5, "message": "no model «x»"}, "payload": "\(b64)",
             "endOfStream": true, "trailers": [{"key": "k", "value": "v"}]}
            """, message: response))

        cases.append(Case(protoName: "facerpc.v1.HealthCheckRequest", json: #"{"service": "lh-age"}"#,
                          message: HealthCheckRequest(service: "lh-age")))
        cases.append(Case(protoName: "facerpc.v1.HealthCheckResponse", json: #"{"status": "SERVICE_UNKNOWN"}"#,
                          message: HealthCheckResponse(status: .serviceUnknown)))
        cases.append(Case(protoName: "facerpc.v1.HealthCheckResponse", json: #"{"status": 7}"#,
                          message: HealthCheckResponse(status: .unrecognized(7))))

        var model = ModelInfo()
        model.name = "age"
        model.task = "age"
        model.architecture = "dlib-resnet-age81"
        model.version = "1"
        model.state = .unavailable
        model.error = "no weights"
        model.inputWidth = 150
        model.inputHeight = 150
        model.inputChannels = 3
        model.labels = ["0", "1", "ü"]
        model.source = "wheel"
        model.parameters = 12_345_678_901
        model.sha256 = "ab"
        model.mean = [104.5, -117.25, 0]
        model.scale = 0.00390625
        let modelJSON = """
            {"name": "age", "task": "age", "architecture": "dlib-resnet-age81", "version": "1",
             "state": "MODEL_STATE_UNAVAILABLE", "error": "no weights", "inputWidth": 150, "inputHeight": 150,
             "inputChannels": 3, "labels": ["0", "1", "ü"], "source": "wheel", "parameters": "12345678901",
             "sha256": "ab", "mean": [104.5, -117.25, 0], "scale": 0.00390625}
            """
        cases.append(Case(protoName: "facerpc.v1.ModelInfo", json: modelJSON, message: model))
        cases.append(Case(protoName: "facerpc.v1.ListModelsResponse",
                          json: #"{"models": [\#(modelJSON), {}]}"#,
                          message: ListModelsResponse(models: [model, ModelInfo()])))

        var options = PredictOptions()
        options.ageModel = "lh-age"
        options.genderModel = "gender"
        options.faceCrop = true
        options.minFaceSize = 24.5
        options.scoreThreshold = 0.75
        options.includeDistributions = true
        options.maxFaces = 16
        let optionsJSON = """
            {"ageModel": "lh-age", "genderModel": "gender", "faceCrop": true, "minFaceSize": 24.5,
             "scoreThreshold": 0.75, "includeDistributions": true, "maxFaces": 16}
            """
        cases.append(Case(protoName: "facerpc.v1.PredictRequest",
                          json: #"{"jpeg": "\#(b64)", "options": \#(optionsJSON)}"#,
                          message: PredictRequest(image: .jpeg(payload), options: options)))
        cases.append(Case(protoName: "facerpc.v1.PredictRequest",
                          json: #"{"raw": {"width": 2, "height": 1, "stride": 8, "rgb": "\#(b64)"}}"#,
                          message: PredictRequest(image: .raw(RawImage(width: 2, height: 1, stride: 8, rgb: payload)))))

        var face = Face()
        face.box = Box(x: 1.5, y: 2.25, width: 100, height: 120.75)
        face.score = 0.875
        face.landmarks = [Point(x: 1, y: 2), Point(x: -3.5, y: 4)]
        var age = AgeEstimate()
        age.years = 27.5
        age.bucket = .age25To32
        age.confidence = 0.625
        age.distribution = [0.25, 0.75]
        face.age = age
        var gender = GenderEstimate()
        gender.label = .male
        gender.confidence = 0.9375
        gender.distribution = [0.0625, 0.9375]
        face.gender = gender
        var timings = Timings()
        timings.decodeMs = 1.25
        timings.detectMs = 8.5
        timings.alignMs = 0.5
        timings.queueMs = 0.125
        timings.ageMs = 12
        timings.genderMs = 11
        timings.totalMs = 33.375
        var predicted = PredictResponse()
        predicted.faces = [face, Face()]
        predicted.isHuman = true
        predicted.timings = timings
        predicted.imageWidth = 1920
        predicted.imageHeight = 1080
        predicted.ageModel = "age"
        predicted.genderModel = "gender"
        cases.append(Case(protoName: "facerpc.v1.PredictResponse", json: """
            {"faces": [{"box": {"x": 1.5, "y": 2.25, "width": 100, "height": 120.75}, "score": 0.875,
                        "landmarks": [{"x": 1, "y": 2}, {"x": -3.5, "y": 4}],
                        "age": {"years": 27.5, "bucket": "AGE_BUCKET_25_32", "confidence": 0.625,
                                "distribution": [0.25, 0.75]},
                        "gender": {"label": "GENDER_MALE", "confidence": 0.9375,
                                   "distribution": [0.0625, 0.9375]}}, {}],
             "isHuman": true,
             "timings": {"decodeMs": 1.25, "detectMs": 8.5, "alignMs": 0.5, "queueMs": 0.125,
                         "ageMs": 12, "genderMs": 11, "totalMs": 33.375},
             "imageWidth": 1920, "imageHeight": 1080, "ageModel": "age", "genderModel": "gender"}
            """, message: predicted))

        var train = TrainRequest()
        train.task = .gender
        train.data = "utk/"
        train.validationData = "val.csv"
        train.validationFraction = 0.25
        train.optimizer = .adadelta
        train.steps = 50_000
        train.epochs = 30
        train.batchSize = 128
        train.learningRate = 0.0078125
        train.lrDecayRate = 0.125
        train.lrDecaySteps = 10_000
        train.momentum = 0.875
        train.weightDecay = 0.00048828125
        train.clipNorm = 4
        train.dropout = 0.5
        train.checkpointEvery = 1000
        train.modelName = "lh-gender"
        train.promote = true
        train.seed = 1 << 63
        train.threads = 2
        cases.append(Case(protoName: "facerpc.v1.TrainRequest", json: """
            {"task": "TRAIN_TASK_GENDER", "data": "utk/", "validationData": "val.csv",
             "validationFraction": 0.25, "optimizer": "OPTIMIZER_ADADELTA", "steps": 50000, "epochs": 30,
             "batchSize": 128, "learningRate": 0.0078125, "lrDecayRate": 0.125, "lrDecaySteps": 10000,
             "momentum": 0.875, "weightDecay": 0.00048828125, "clipNorm": 4, "dropout": 0.5,
             "checkpointEvery": 1000, "modelName": "lh-gender", "promote": true,
             "seed": "9223372036854775808", "threads": 2}
            """, message: train))
        cases.append(Case(protoName: "facerpc.v1.TrainJobRequest", json: #"{"jobId": "j-1"}"#,
                          message: TrainJobRequest(jobID: "j-1")))

        var status = TrainStatus()
        status.jobID = "j-1"
        status.model = "lh-age"
        status.state = .cancelled
        status.step = 1 << 40
        status.totalSteps = (1 << 40) + 1
        status.epoch = 3
        status.loss = 1.75
        status.lossAvg = 1.8125
        status.trainAccuracy = 0.5
        status.valAccuracy = 0.4375
        status.learningRate = 0.001953125
        status.examplesPerSecond = 812.5
        status.etaSeconds = 3600
        status.checkpoint = "ckpt/1000.fwt"
        status.error = "ошибка"
        status.version = "3"
        cases.append(Case(protoName: "facerpc.v1.TrainStatus", json: """
            {"jobId": "j-1", "model": "lh-age", "state": "TRAIN_STATE_CANCELLED", "step": "1099511627776",
             "totalSteps": "1099511627777", "epoch": 3, "loss": 1.75, "lossAvg": 1.8125, "trainAccuracy": 0.5,
             "valAccuracy": 0.4375, "learningRate": 0.001953125, "examplesPerSecond": 812.5,
             "etaSeconds": 3600, "checkpoint": "ckpt/1000.fwt", "error": "ошибка", "version": "3"}
            """, message: status))
        return cases
    }()

    /// The reference encodings of `cases`, or `nil` when the tools are missing.
    static let referenceEncodings: [[UInt8]]? = PythonReference.encode(cases)

    @Test("Encodings match Python protobuf byte for byte, and decode back",
          .enabled(if: referenceEncodings != nil, "needs protoc-c and python3 with the protobuf package"))
    func matchesReference() throws {
        let reference = try #require(Self.referenceEncodings)
        #expect(reference.count == Self.cases.count)
        for (testCase, expected) in zip(Self.cases, reference) {
            #expect(testCase.message.serializedBytes() == expected, "\(testCase.protoName): \(testCase.json)")
            #expect(try Self.decodes(expected, to: testCase.message), "\(testCase.protoName)")
        }
    }

    private static func decodes<M: ProtoMessage>(_ bytes: [UInt8], to message: M) throws -> Bool {
        try M(serializedBytes: bytes) == message
    }
}

/// Runs Python's protobuf runtime over messages compiled from Protos/ by
/// protoc-c's `--descriptor_set_out`, so no generated Python code is needed.
enum PythonReference {
    static let script = #"""
        import base64, json, subprocess, sys, tempfile, os
        try:
            from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
        except ImportError:
            sys.exit(77)
        proto_dir = sys.argv[1]
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "fds.pb")
            protos = sorted(p for p in os.listdir(proto_dir) if p.endswith(".proto"))
            subprocess.run(["protoc-c", "--descriptor_set_out=" + out, "-I", proto_dir] + protos, check=True)
            fds = descriptor_pb2.FileDescriptorSet.FromString(open(out, "rb").read())
        pool = descriptor_pool.DescriptorPool()
        for f in fds.file:
            pool.Add(f)
        for item in json.load(sys.stdin):
            cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(item["type"]))
            msg = json_format.Parse(item["json"], cls())
            print(msg.SerializeToString(deterministic=True).hex())
        """#

    static func encode(_ cases: [WireCompatibilityTests.Case]) -> [[UInt8]]? {
        let protoDir = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protos/facerpc/v1").path
        guard FileManager.default.fileExists(atPath: protoDir),
              let input = try? JSONSerialization.data(
                  withJSONObject: cases.map { ["type": $0.protoName, "json": $0.json] })
        else { return nil }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, protoDir]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let text = String(data: output, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").map { line in
            var bytes: [UInt8] = []
            var index = line.startIndex
            while index < line.endIndex {
                let next = line.index(index, offsetBy: 2)
                bytes.append(UInt8(line[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
    }
}
