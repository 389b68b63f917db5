import FaceRPCCore

/// ``AtomicFile`` (FaceRPCCore) with its failures in the registry's own error
/// vocabulary, so registry callers see one error type.
enum RegistryFiles {
    static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        do { try AtomicFile.write(bytes, to: path) } catch let error as FileIOError { throw RegistryError(error) }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write($0, to: path) }
    }

    static func makeDirectories(_ path: String) throws {
        do { try AtomicFile.makeDirectories(path) } catch let error as FileIOError { throw RegistryError(error) }
    }
}

extension RegistryError {
    init(_ error: FileIOError) { self = .io(path: error.path, reason: error.reason) }
}
