#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CoreMetrics

/// Process gauges read from /proc at each scrape: resident and virtual memory
/// (/proc/self/statm) and open file descriptors (/proc/self/fd). On systems
/// without /proc the gauges are simply not updated.
public struct ProcessMetrics: Sendable {
    private let resident: Gauge
    private let virtual: Gauge
    private let openFiles: Gauge

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        resident = Gauge(label: MetricCatalog.residentMemory.name, factory: factory)
        virtual = Gauge(label: MetricCatalog.virtualMemory.name, factory: factory)
        openFiles = Gauge(label: MetricCatalog.openFileDescriptors.name, factory: factory)
    }

    /// Reads /proc and sets the gauges.
    public func sample() {
        if let memory = Self.memory() {
            resident.record(memory.residentBytes)
            virtual.record(memory.virtualBytes)
        }
        if let count = Self.openFileDescriptorCount() { openFiles.record(count) }
    }

    /// The process's virtual and resident size in bytes, from /proc/self/statm
    /// (its first two fields, in pages), or nil without /proc.
    public static func memory() -> (virtualBytes: Int, residentBytes: Int)? {
        // statm is one short line ("size resident shared text lib data dt"):
        // 256 bytes hold it many times over.
        guard let text = readSmallFile("/proc/self/statm", limit: 256) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[0]), let residentPages = Int(fields[1]) else { return nil }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        return (pages * pageSize, residentPages * pageSize)
    }

    /// Entries of /proc/self/fd (the descriptor used to list it excluded), or nil without /proc.
    public static func openFileDescriptorCount() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".") && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
            }
            if !isDot { count += 1 }
        }
        return max(0, count - 1)
    }

    private static func readSmallFile(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, limit) }
        guard count > 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
            .trimmingTrailingNewline()
    }
}

private extension String {
    func trimmingTrailingNewline() -> String {
        var result = self
        while result.last == "\n" { result.removeLast() }
        return result
    }
}
