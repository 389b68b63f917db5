import Foundation

/// The body of every fuzz target when it is built without libFuzzer: runs each
/// file named on the command line (or every file in a named folder) through
/// the target once, so committed corpora and crash inputs replay as a plain
/// program in `make test`.
public enum FuzzReplay {
    /// Named limit: inputs larger than this are skipped (libFuzzer's own default `-max_len` is far smaller).
    public static let maxInputBytes = 16 << 20

    public static func main(_ name: String, _ body: (UnsafeRawBufferPointer) -> Void) {
        var files: [String] = []
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("\(name): no such file: \(argument)\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                files += entries.sorted().map { argument + "/" + $0 }
            } else {
                files.append(argument)
            }
        }
        var replayed = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file), data.count <= maxInputBytes else { continue }
            data.withUnsafeBytes { body($0) }
            replayed += 1
        }
        print("\(name): replayed \(replayed) inputs without a crash")
    }
}
