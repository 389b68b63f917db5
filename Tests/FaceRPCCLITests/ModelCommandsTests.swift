import FaceRPCTestSupport
import Foundation
import Testing

/// `facerpc bench-model` as a benchmark script runs it: its own process, one
/// JSON line on standard output, and with `--profile` one line per step.
@Suite struct ModelCommandsTests {
    /// Runs the binary to completion.
    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let result = try runChildProcess(ServeProcessTests.binary, arguments)
        return (result.status, result.stdout, result.stderr)
    }

    @Test("bench-model --json prints one JSON line; --profile times every step of the network on standard error")
    func benchModelProfile() throws {
        // lh-gender needs no installed files: untrained, it runs its seeded initial weights.
        let empty = NSTemporaryDirectory() + "facerpc-bench-\(getpid())"
        let result = try run(["bench-model", "--model", "lh-gender", "--batch", "2", "--threads", "2", "--seconds", "0.2",
                              "--profile", "--json", "--models", empty])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        #expect(object["model"] as? String == "lh-gender")
        #expect(object["batch"] as? Int == 2)
        #expect(object["threads"] as? Int == 2)
        #expect((object["images_per_second"] as? Double ?? 0) > 0)
        #expect((object["gflops"] as? Double ?? 0) > 0)
        // Levi-Hassner's plan: conv1, pool1, norm1, conv2, pool2, norm2, conv3, pool3, fc6, fc7, fc8, prob.
        let steps = result.err.split(separator: "\n").filter { $0.hasPrefix("step ") }
        #expect(steps.map { $0.split(separator: " ")[1] } == ["conv1", "pool1", "norm1", "conv2", "pool2", "norm2", "conv3",
                                                               "pool3", "fc6", "fc7", "fc8", "prob"])
        for step in steps {
            // "step NAME KIND: M us/img (fastest F)", with 0 < F <= M.
            let numbers = step.split(whereSeparator: { $0 == " " || $0 == ")" || $0 == "(" }).compactMap { Double($0) }
            #expect(numbers.count == 2 && numbers[1] > 0 && numbers[1] <= numbers[0], "\(step)")
        }
    }

    @Test("without --json the profile and the summary share standard output")
    func benchModelText() throws {
        let empty = NSTemporaryDirectory() + "facerpc-bench-\(getpid())"
        let result = try run(["bench-model", "--model", "lh-age", "--seconds", "0.1", "--profile", "--models", empty])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("step ") }.count == 12)
        #expect(lines.last?.hasPrefix("lh-age: batch 1, 1 threads: ") == true)
    }
}
