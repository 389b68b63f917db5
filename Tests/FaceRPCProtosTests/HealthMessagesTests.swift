import FaceRPCProtos
import Testing

@Suite("health.proto messages")
struct HealthMessagesTests {
    @Test("HealthCheckRequest round-trips a unicode service name")
    func request() throws {
        let request = HealthCheckRequest(service: "lh-\(unicodeSamples[1])")
        #expect(try roundTrip(request).copy == request)
    }

    @Test("Every ServingStatus round-trips", arguments: HealthCheckResponse.ServingStatus.allCases)
    func status(_ status: HealthCheckResponse.ServingStatus) throws {
        let response = HealthCheckResponse(status: status)
        #expect(try roundTrip(response).copy.status == status)
        #expect(HealthCheckResponse.ServingStatus(rawValue: status.rawValue) == status)
    }

    @Test("ServingStatus wire numbers follow the proto")
    func statusNumbers() {
        #expect(HealthCheckResponse.ServingStatus.allCases.map(\.rawValue) == [0, 1, 2, 3])
        #expect(HealthCheckResponse.ServingStatus(rawValue: 2) == .notServing)
    }

    @Test("Unknown ServingStatus numbers survive as unrecognized", arguments: [Int32(4), 99, -1, .max, .min])
    func unrecognized(_ number: Int32) throws {
        let response = HealthCheckResponse(status: .unrecognized(number))
        let (copy, _) = try roundTrip(response)
        #expect(copy.status == .unrecognized(number))
        #expect(copy.status.rawValue == number)
    }
}
