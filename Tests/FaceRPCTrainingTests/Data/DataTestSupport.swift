import Foundation
import FaceRPCImage
@testable import FaceRPCTraining

/// Temporary folders, crafted JPEGs and shared-data paths for the data tests.
enum DataTestSupport {
    /// The repository root (this file is Tests/FaceRPCTrainingTests/Data/DataTestSupport.swift).
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let utkface = repoRoot.appendingPathComponent("../shared/data/utkface").standardizedFileURL
    static let utkfaceAvailable = FileManager.default.fileExists(atPath: utkface.appendingPathComponent("labels.csv").path)
    static let grayFixture = repoRoot.appendingPathComponent("Tests/FaceRPCImageTests/Fixtures/gray.jpg")

    /// A JPEG of `image` (quality 100, 4:4:4).
    static func jpeg(_ image: RGBImage) throws -> [UInt8] { try JPEGEncoder.encode(image, quality: 100) }

    /// A `width` × `height` image whose pixel (x, y) is `color(x, y)`.
    static func image(width: Int, height: Int, _ color: (Int, Int) -> (UInt8, UInt8, UInt8)) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let (r, g, b) = color(x, y)
                let i = 3 * (y * width + x)
                pixels[i] = r; pixels[i + 1] = g; pixels[i + 2] = b
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A small uniform-ish JPEG (32 × 32).
    static func smallJPEG(_ shade: UInt8 = 90) throws -> [UInt8] {
        try jpeg(image(width: 32, height: 32) { x, y in (shade, UInt8(truncatingIfNeeded: x * 4), UInt8(truncatingIfNeeded: y * 4)) })
    }
}

/// A temporary folder that acts as a data root; removed by `remove()`.
final class TempTree: @unchecked Sendable {
    let url: URL
    var path: String { url.path }

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("facerpc-data-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        // The real path, so comparisons with DataRoot.path hold where /tmp is a link.
        url = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLinkOrSelf(base.path))
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func root() throws -> DataRoot { try DataRoot(path: path) }

    func abs(_ relative: String) -> String { path + "/" + relative }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let target = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: target)
        return target.path
    }

    func write(_ relative: String, text: String) throws { try write(relative, Array(text.utf8)) }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(at: url.appendingPathComponent(relative), withIntermediateDirectories: true)
    }

    /// A symbolic link at `relative` whose content is `destination` (verbatim).
    func symlink(_ relative: String, to destination: String) throws {
        let link = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: destination)
    }
}

extension FileManager {
    fileprivate func destinationOfSymbolicLinkOrSelf(_ path: String) throws -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}

/// Runs blocking `body` on its own thread so Swift's cooperative pool is not
/// held while pipelines decode; the test asserts on the returned value.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// The error `body` throws, as a TrainingDataError (nil when it throws nothing or something else).
func dataError(_ body: () throws -> Void) -> TrainingDataError? {
    do {
        try body()
        return nil
    } catch let error as TrainingDataError {
        return error
    } catch {
        return nil
    }
}
