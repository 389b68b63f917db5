import Foundation
import Testing
@testable import FaceRPCTraining

@Suite("Data root confinement")
struct DataRootTests {
    @Test("a relative path inside the root resolves to its real path")
    func insideResolves() throws {
        let tree = try TempTree()
        try tree.write("sets/a.csv", text: "path,age\n")
        let root = try tree.root()
        #expect(root.path == tree.path)
        #expect(try root.resolve("sets/a.csv") == tree.abs("sets/a.csv"))
        #expect(try root.resolve("sets/../sets/./a.csv") == tree.abs("sets/a.csv"))
        #expect(try root.resolve(".") == tree.path)
    }

    @Test("the root must exist and be a directory")
    func rootChecks() throws {
        let tree = try TempTree()
        try tree.write("file", text: "x")
        #expect(dataError { _ = try DataRoot(path: tree.abs("missing")) } == .invalidDataRoot(
            path: tree.abs("missing"), reason: "No such file or directory"))
        guard case .invalidDataRoot(_, let reason) = dataError({ _ = try DataRoot(path: tree.abs("file")) }) else {
            Issue.record("a file was accepted as the data root")
            return
        }
        #expect(reason == "not a directory")
        // A root given through a symbolic link is stored as its real path.
        try tree.mkdir("real")
        try tree.symlink("alias", to: tree.abs("real"))
        #expect(try DataRoot(path: tree.abs("alias")).path == tree.abs("real"))
    }

    @Test("absolute paths are refused, even inside the root")
    func absolute() throws {
        let tree = try TempTree()
        try tree.write("a.csv", text: "path,age\n")
        let root = try tree.root()
        #expect(dataError { _ = try root.resolve(tree.abs("a.csv")) } == .absolutePath(tree.abs("a.csv")))
        #expect(dataError { _ = try root.resolve("/etc/passwd") } == .absolutePath("/etc/passwd"))
        #expect(TrainingDataError.absolutePath("/etc/passwd").statusCode == .invalidArgument)
    }

    @Test("`..` above the root is refused before the file system is asked")
    func dotDot() throws {
        let tree = try TempTree()
        try tree.mkdir("inner")
        let root = try tree.root()
        for path in ["..", "../x", "inner/../../x", "./../inner", "inner/../../" + URL(fileURLWithPath: tree.path).lastPathComponent] {
            #expect(dataError { _ = try root.resolve(path) } == .outsideDataRoot(path), "\(path)")
        }
        #expect(TrainingDataError.outsideDataRoot("../x").description == "data path '../x' is outside the data root")
        #expect(try root.resolve("inner/..") == tree.path)
    }

    @Test("a symbolic link whose target leaves the root is refused; one that stays inside is allowed")
    func symlinks() throws {
        let outside = try TempTree()
        try outside.write("secret.jpg", try DataTestSupport.smallJPEG())
        let tree = try TempTree()
        try tree.write("data/face.jpg", try DataTestSupport.smallJPEG())
        try tree.symlink("out", to: outside.path)
        try tree.symlink("out-file.jpg", to: outside.abs("secret.jpg"))
        try tree.symlink("relative-out", to: "../" + URL(fileURLWithPath: outside.path).lastPathComponent)
        try tree.symlink("in", to: "data")
        try tree.symlink("in-abs.jpg", to: tree.abs("data/face.jpg"))
        let root = try tree.root()
        #expect(dataError { _ = try root.resolve("out") } == .outsideDataRoot("out"))
        #expect(dataError { _ = try root.resolve("out/secret.jpg") } == .outsideDataRoot("out/secret.jpg"))
        #expect(dataError { _ = try root.resolve("out-file.jpg") } == .outsideDataRoot("out-file.jpg"))
        #expect(dataError { _ = try root.resolve("relative-out/secret.jpg") } == .outsideDataRoot("relative-out/secret.jpg"))
        #expect(try root.resolve("in/face.jpg") == tree.abs("data/face.jpg"))
        #expect(try root.resolve("in-abs.jpg") == tree.abs("data/face.jpg"))
    }

    @Test("NUL bytes, empty and over-long paths are invalid; missing paths are not found")
    func malformed() throws {
        let tree = try TempTree()
        let root = try tree.root()
        guard case .invalidPath(_, let nul) = dataError({ _ = try root.resolve("a\u{0}b") }) else {
            Issue.record("a NUL byte was accepted")
            return
        }
        #expect(nul.contains("NUL"))
        guard case .invalidPath = dataError({ _ = try root.resolve("") }) else {
            Issue.record("an empty path was accepted")
            return
        }
        let long = String(repeating: "a/", count: DataRoot.Limits.maxPathBytes / 2) + "x"
        guard case .invalidPath(_, let reason) = dataError({ _ = try root.resolve(long) }) else {
            Issue.record("a path over the limit was accepted")
            return
        }
        #expect(reason.contains("\(DataRoot.Limits.maxPathBytes)"))
        #expect(dataError { _ = try root.resolve("nope/x.csv") } == .notFound("nope/x.csv"))
        #expect(TrainingDataError.notFound("x").statusCode == .notFound)
    }

    @Test("messages quote paths with control characters replaced and long paths cut")
    func quoting() {
        #expect(TrainingDataError.quote("a\nb\u{1B}c") == "'a?b?c'")
        let quoted = TrainingDataError.quote(String(repeating: "x", count: 1000))
        #expect(quoted.utf8.count == TrainingDataError.maxQuotedBytes + 5)
        #expect(quoted.hasSuffix("...'"))
    }
}
