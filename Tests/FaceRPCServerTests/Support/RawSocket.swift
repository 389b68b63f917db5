import FaceRPCCore
import FaceRPCProtos
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking POSIX socket for sending exactly the bytes a test wants —
/// garbage, partial frames, oversize headers — and reading frames back.
///
/// Reads block, so they run on a Dispatch thread rather than on Swift's
/// cooperative pool, which the in-process server's handlers need.
/// `@unchecked Sendable`: one test uses a socket at a time, in sequence.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    init(_ endpoint: Endpoint) throws {
        switch endpoint {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else { close(fd); throw ConfigurationError("connect \(path): errno \(errno)") }
        case .tcp(let host, let port):
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else { close(fd); throw ConfigurationError("connect \(host):\(port): errno \(errno)") }
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    func sendFrame(_ body: [UInt8]) {
        let length = UInt32(body.count).bigEndian
        send(withUnsafeBytes(of: length) { Array($0) } + body)
    }

    func sendRequest(_ envelope: RequestEnvelope) {
        sendFrame(envelope.serializedBytes())
    }

    /// Reads exactly `count` bytes, or nil on EOF or after `timeout` seconds.
    func read(count: Int, timeout: Double) -> [UInt8]? {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while out.count < count {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: count - out.count)
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { return nil }
            out += chunk[..<got]
        }
        return out
    }

    /// The next response frame, or nil on EOF / timeout.
    func readResponse(timeout: Double = 5) async -> ResponseEnvelope? {
        await offload { self.readResponseBlocking(timeout: timeout) }
    }

    /// True when the peer has closed (EOF) within `timeout` seconds.
    func waitForClose(timeout: Double) async -> Bool {
        await offload { self.waitForCloseBlocking(timeout: timeout) }
    }

    private func readResponseBlocking(timeout: Double) -> ResponseEnvelope? {
        guard let header = read(count: 4, timeout: timeout) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard let body = read(count: length, timeout: timeout) else { return nil }
        return try? ResponseEnvelope(serializedBytes: body)
    }

    private func waitForCloseBlocking(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            var byte: UInt8 = 0
            let got = recv(fd, &byte, 1, 0)
            if got <= 0 { return true }
        }
        return false
    }
}

func request(_ callID: UInt64, _ method: String, _ payload: [UInt8] = [], timeoutMicros: UInt64 = 0) -> RequestEnvelope {
    var envelope = RequestEnvelope()
    envelope.callID = callID
    envelope.method = method
    envelope.payload = payload
    envelope.timeoutMicros = timeoutMicros
    return envelope
}

/// Runs blocking work on a Dispatch thread and awaits it.
func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}
