import ArgumentParser
import FaceRPCClient
import FaceRPCCore

/// `--unix PATH | --tcp HOST:PORT` for the client commands.
struct AddressOptions: ParsableArguments {
    @Option(name: .customLong("unix"), help: "Unix socket of the server (default: \(Endpoint.defaultUnixPath)).")
    var unixPath: String?

    @Option(name: .customLong("tcp"), help: "TCP address of the server, HOST:PORT.")
    var tcpAddress: String?

    @Option(help: "File holding the token of a server started with --auth-token-file (sent as authorization: Bearer).")
    var tokenFile: String?

    func validate() throws {
        if unixPath != nil && tcpAddress != nil {
            throw ValidationError("give either --unix or --tcp, not both")
        }
    }

    func endpoint() throws -> Endpoint {
        if let tcpAddress { return try Endpoint.parseTCP(tcpAddress) }
        return try Endpoint.unixPath(unixPath ?? Endpoint.defaultUnixPath)
    }

    /// Connects to ``endpoint()``, presenting the token from `--token-file` on every call.
    func connect(timeout: Duration) async throws -> FaceRPCConnection {
        let endpoint = try endpoint()
        var metadata: [MetadataItem] = []
        if let tokenFile { metadata.append(try AuthToken(contentsOfFile: tokenFile).metadata) }
        return try await FaceRPCConnection.connect(to: endpoint, timeout: timeout, metadata: metadata)
    }
}
