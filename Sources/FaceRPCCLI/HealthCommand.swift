import ArgumentParser
import FaceRPCClient
import FaceRPCCore
import Foundation

/// `facerpc health`: a probe with grpc_health_probe's exit codes.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check whether the server (or one model) is serving.",
        discussion: "Exits 0 for SERVING, 1 for NOT_SERVING or SERVICE_UNKNOWN, 2 when the server cannot be reached or does not answer in time."
    )

    @OptionGroup var address: AddressOptions

    @Option(help: "Service to check: \"\" for the whole server, or a model name.")
    var service: String = ""

    @Option(help: "Seconds to wait for the answer, connection included.")
    var timeout: Double = 2

    func run() async throws {
        let endpoint: Endpoint
        do { endpoint = try address.endpoint() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let limit = Duration.milliseconds(Int64(max(0.001, timeout) * 1000))
        do {
            let connection = try await address.connect(timeout: limit)
            defer { Task { await connection.close() } }
            let status = try await connection.checkHealth(service: service, timeout: limit)
            print(status.probeName)
            throw ExitCode(status == .serving ? 0 : 1)
        } catch let error as RPCError {
            FileHandle.standardError.write(Data("error: \(endpoint): \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as ConfigurationError {
            // A probe that cannot even ask (unreadable token file) is an error, not NOT_SERVING.
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

import FaceRPCProtos
extension HealthCheckResponse.ServingStatus {
    /// The name grpc_health_probe prints.
    var probeName: String {
        switch self {
        case .serving: return "SERVING"
        case .notServing: return "NOT_SERVING"
        case .serviceUnknown: return "SERVICE_UNKNOWN"
        case .unknown: return "UNKNOWN"
        case .unrecognized(let value): return "UNRECOGNIZED(\(value))"
        }
    }
}
