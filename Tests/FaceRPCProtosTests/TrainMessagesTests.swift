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
