import ArgumentParser
import FaceRPCCore

/// `--unix PATH | --tcp HOST:PORT` for the client commands.
struct AddressOptions: ParsableArguments {
    @Option(name: .customLong("unix"), help: "Unix socket of the server (default: \(Endpoint.defaultUnixPath)).")
    var unixPath: String?

    @Option(name: .customLong("tcp"), help: "TCP address of the server, HOST:PORT.")
    var tcpAddress: String?

    func validate() throws {
        if unixPath != nil && tcpAddress != nil {
            throw ValidationError("give either --unix or --tcp, not both")
        }
    }

    func endpoint() throws -> Endpoint {
        if let tcpAddress { return try Endpoint.parseTCP(tcpAddress) }
        return try Endpoint.unixPath(unixPath ?? Endpoint.defaultUnixPath)
    }
}

