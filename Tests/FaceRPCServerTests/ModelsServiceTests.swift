import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import FaceRPCServer
import Testing

/// A catalog with one serving and one broken model.
struct FakeCatalog: ModelCatalog {
    func listModels() -> [ModelInfo] {
        var age = ModelInfo()
        age.name = "age"
        age.task = "age"
        age.state = .serving
        age.inputWidth = 64
        var broken = ModelInfo()
        broken.name = "broken"
        broken.state = .unavailable
        broken.error = "sha256 mismatch"
        return [age, broken]
    }

    func servingStatus(ofModel name: String) -> HealthCheckResponse.ServingStatus? {
        switch name {
        case "age": return .serving
        case "broken": return .notServing
        default: return nil
        }
    }
}

@Suite struct ModelsServiceTests {
    @Test func listModelsAndPerModelHealth() async throws {
        let server = try await TestServer.start(catalog: FakeCatalog())
        let connection = try await FaceRPCConnection.connect(to: server.unix)
        let models = try await connection.listModels()
        #expect(models.map(\.name) == ["age", "broken"])
        #expect(models[1].error == "sha256 mismatch")
        #expect(models[1].state == .unavailable)
        #expect(try await connection.checkHealth(service: "age") == .serving)
        #expect(try await connection.checkHealth(service: "broken") == .notServing)
        #expect(try await connection.checkHealth(service: "nope") == .serviceUnknown)
        // Draining turns every model NOT_SERVING too.
        server.server.initiateGracefulShutdown()
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await connection.checkHealth(service: "age") == .notServing)
        await server.server.waitUntilStopped()
    }

    @Test func watchSendsServiceUnknownForAnUnknownModel() async throws {
        let server = try await TestServer.start(catalog: FakeCatalog())
        let connection = try await FaceRPCConnection.connect(to: server.unix)
        var request = HealthCheckRequest()
        request.service = "nope"
        var iterator = connection.serverStreaming(method: Methods.healthWatch, request: request.serializedBytes()).makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(try HealthCheckResponse(serializedBytes: first).status == .serviceUnknown)
        await connection.close()
        await server.stop()
    }
}
