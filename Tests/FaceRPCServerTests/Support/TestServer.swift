import FaceRPCCore
import FaceRPCServer
import Foundation
import Logging

/// A real server on a temporary Unix socket and a free TCP port, in this process.
struct TestServer {
    let server: FaceRPCServer
    let unixPath: String
    let tcp: Endpoint
    let folder: String

    var unix: Endpoint { .unix(path: unixPath) }

    static func start(limits: ServerLimits = ServerLimits(), catalog: (any ModelCatalog)? = nil,
                      services: [any RPCService] = [], authToken: AuthToken? = nil) async throws -> TestServer {
        let folder = try makeTemporaryFolder()
        let unixPath = folder + "/s.sock"
        var configuration = ServerConfiguration(endpoints: [.unix(path: unixPath), .tcp(host: "127.0.0.1", port: 0)])
        configuration.limits = limits
        configuration.enableDebugService = true
        configuration.authToken = authToken
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        let server = FaceRPCServer(configuration: configuration, services: services, catalog: catalog, logger: logger)
        let bound = try await server.start()
        guard let tcp = bound.first(where: { if case .tcp = $0 { return true } else { return false } }) else {
            throw ConfigurationError("no TCP listener")
        }
        return TestServer(server: server, unixPath: unixPath, tcp: tcp, folder: folder)
    }

    func stop() async {
        server.initiateGracefulShutdown()
        await server.waitUntilStopped()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// A fresh folder under /tmp (short, so socket paths fit in sun_path).
func makeTemporaryFolder() throws -> String {
    var template = Array("/tmp/facerpc-test-XXXXXX".utf8CString)
    guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw ConfigurationError("mkdtemp failed")
    }
    return String(cString: result)
}
