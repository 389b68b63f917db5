import ArgumentParser
import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import Foundation

/// `facerpc models`: the registry as the server sees it.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the server's models and their state."
    )

    @OptionGroup var address: AddressOptions

    @Flag(help: "One JSON object per model, one per line.")
    var json = false

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 5

    func run() async throws {
        let endpoint = try address.endpoint()
        let limit = Duration.milliseconds(Int64(max(0.001, timeout) * 1000))
        let models: [ModelInfo]
        do {
            let connection = try await address.connect(timeout: limit)
            defer { Task { await connection.close() } }
            models = try await connection.listModels(timeout: limit)
        } catch {
            FileHandle.standardError.write(Data("error: \(endpoint): \(error)\n".utf8))
            throw ExitCode(2)
        }
        if json {
            for model in models {
                let object: [String: Any] = [
                    "name": model.name, "task": model.task, "architecture": model.architecture,
                    "version": model.version, "state": model.state.displayName, "error": model.error,
                    "input": [Int(model.inputChannels), Int(model.inputHeight), Int(model.inputWidth)],
                    "labels": model.labels, "parameters": Int(model.parameters), "sha256": model.sha256,
                    "source": model.source,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let header = ["NAME", "TASK", "ARCHITECTURE", "VERSION", "STATE", "INPUT", "DETAIL"]
        var rows = [header]
        for model in models {
            rows.append([model.name, model.task, model.architecture, model.version, model.state.displayName,
                         "\(model.inputWidth)x\(model.inputHeight)x\(model.inputChannels)",
                         model.error.isEmpty ? model.source : model.error])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
    }
}

extension ModelState {
    var displayName: String {
        switch self {
        case .unspecified: return "UNSPECIFIED"
        case .loading: return "LOADING"
        case .serving: return "SERVING"
        case .unavailable: return "UNAVAILABLE"
        case .unrecognized(let value): return "UNRECOGNIZED(\(value))"
        }
    }
}
