import FaceRPCProtos
import Testing

@Suite("train.proto messages")
struct TrainMessagesTests {
    @Test("TrainRequest round-trips every field")
    func request() throws {
        var request = TrainRequest()
        request.task = .gender
        request.data = "datasets/UTKFace/ünïcode"
        request.validationData = "val.csv"
        request.validationFraction = 0.2
        request.optimizer = .adam
        request.steps = 50_000
        request.epochs = 30
        request.batchSize = 128
        request.learningRate = 0.01
        request.lrDecayRate = 0.1
        request.lrDecaySteps = 10_000
        request.momentum = 0.9
        request.weightDecay = 0.0005
        request.clipNorm = 4
        request.dropout = 0.5
        request.checkpointEvery = 1000
        request.modelName = "lh-gender"
        request.promote = true
        request.seed = .max
        request.threads = 2
        #expect(try roundTrip(request).copy == request)
    }

    @Test("TrainJobRequest round-trips")
    func jobRequest() throws {
        let request = TrainJobRequest(jobID: "job-\(unicodeSamples[2])")
        #expect(try roundTrip(request).copy == request)
    }

    @Test("TrainStatus round-trips every field")
    func status() throws {
        var status = TrainStatus()
        status.jobID = "j-1"
        status.model = "lh-age"
        status.state = .running
        status.step = 1 << 40
        status.totalSteps = 1 << 41
        status.epoch = 3
        status.loss = 1.75
        status.lossAvg = 1.8
        status.trainAccuracy = 0.5
        status.valAccuracy = 0.45
        status.learningRate = 0.001
        status.examplesPerSecond = 812.5
        status.etaSeconds = 3600
        status.checkpoint = "ckpt/step-1000.fwt"
        status.error = "ошибка"
        status.version = "3"
        #expect(try roundTrip(status).copy == status)
    }

    @Test("TrainReport round-trips every field, nested and repeated ones included")
    func report() throws {
        var status = TrainStatus()
        status.jobID = "j-2"
        status.state = .succeeded
        var report = TrainReport()
        report.status = status
        report.task = .age
        report.examples = 1025
        report.accuracy = 0.41
        report.oneOffAccuracy = 0.83
        report.labels = ["0-2", "4-6", "8-12"]
        report.confusion = [5, 1, 0, 2, 7, 1, 0, 0, UInt32.max]
        var metrics = ClassMetrics()
        metrics.label = "4-6"
        metrics.precision = 0.5
        metrics.recall = 0.25
        metrics.f1 = 1.0 / 3
        metrics.support = 12
        report.classes = [metrics, ClassMetrics()]
        report.macroF1 = 0.3
        report.baselineAccuracy = 0.28
        var point = TrainCurvePoint()
        point.step = 100
        point.loss = 2.1
        point.lossAvg = 2.2
        point.trainAccuracy = 0.2
        point.valAccuracy = 0.3
        point.learningRate = 0.01
        point.epoch = 1
        report.curve = [point, TrainCurvePoint()]
        let copy = try roundTrip(report).copy
        #expect(copy == report)
        #expect(copy.status?.jobID == "j-2")
    }

    @Test("Training enums round-trip known and unrecognized values")
    func enums() throws {
        for task in TrainTask.allCases + [.unrecognized(77)] {
            var request = TrainRequest()
            request.task = task
            #expect(try roundTrip(request).copy.task == task)
        }
        for optimizer in Optimizer.allCases + [.unrecognized(-2)] {
            var request = TrainRequest()
            request.optimizer = optimizer
            #expect(try roundTrip(request).copy.optimizer == optimizer)
        }
        for state in TrainState.allCases + [.unrecognized(6)] {
            var status = TrainStatus()
            status.state = state
            #expect(try roundTrip(status).copy.state == state)
        }
        #expect(TrainTask.allCases.map(\.rawValue) == [0, 1, 2])
        #expect(Optimizer.allCases.map(\.rawValue) == [0, 1, 2, 3])
        #expect(TrainState.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5])
    }
}
