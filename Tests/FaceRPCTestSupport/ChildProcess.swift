import Foundation

/// A child process run to completion: its exit status and both outputs.
public struct ChildProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments` and waits for it to exit.
///
/// Standard output is read to its end before standard error, so the child
/// must not write more than a pipe holds (64 KiB) to standard error while its
/// standard output is still open; the tools the tests run write little there.
public func runChildProcess(_ executable: String, _ arguments: [String]) throws -> ChildProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting, so a full pipe cannot stall the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ChildProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                              stderr: String(decoding: errData, as: UTF8.self))
}

/// A test tool (python, a reference script) that exited with an error.
public struct ToolFailure: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Runs `interpreter` (by default `python3` on `PATH`, which `make test` points
/// at `.venv`) with `arguments` and returns its standard output; a non-zero
/// exit throws ``ToolFailure`` with both outputs.
@discardableResult
public func runPython(_ arguments: [String], interpreter: String = "python3") throws -> String {
    let result = try runChildProcess("/usr/bin/env", [interpreter] + arguments)
    guard result.status == 0 else {
        throw ToolFailure(description: "\(interpreter) \(arguments.joined(separator: " ")) failed:\n" + result.stdout + result.stderr)
    }
    return result.stdout
}
