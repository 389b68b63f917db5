import FaceRPCTestSupport
import Foundation
import Testing
@testable import FaceRPCONNX

@Suite("NPY float32 files")
struct NPYTests {
    @Test func roundTripsThroughAFile() throws {
        let dir = try TestSupport.temporaryDirectory()
        var rng = SeededGenerator(seed: 7)
        let data = rng.floats(2 * 3 * 4)
        try NPY.write(path: dir + "/a.npy", shape: [2, 3, 4], data: data)
        let back = try NPY.read(path: dir + "/a.npy")
        #expect(back.shape == [2, 3, 4])
        #expect(back.data == data)
    }

    @Test func headerIsPaddedTo64Bytes() throws {
        let bytes = try NPY.encode(shape: [5], data: [1, 2, 3, 4, 5])
        let dataStart = bytes.count - 20
        #expect(dataStart % 64 == 0)
        #expect(bytes[dataStart - 1] == UInt8(ascii: "\n"))
        #expect(try NPY.decode(bytes).shape == [5])
    }

    @Test(.enabled(if: TestSupport.onnxruntimeAvailable, "python3 with numpy is not available"))
    func readsWhatNumPyWritesAndTheReverse() throws {
        let dir = try TestSupport.temporaryDirectory()
        try runPython(["-c", "import numpy as np; np.save('\(dir)/np.npy', np.arange(6, dtype=np.float32).reshape(2, 3) / 4)"])
        let a = try NPY.read(path: dir + "/np.npy")
        #expect(a.shape == [2, 3])
        #expect(a.data == [0, 0.25, 0.5, 0.75, 1, 1.25])
        try NPY.write(path: dir + "/swift.npy", shape: [3, 1], data: [-1.5, 0, 2])
        let text = try runPython(["-c", "import numpy as np; a = np.load('\(dir)/swift.npy'); print(a.shape, a.dtype, a.ravel().tolist())"])
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "(3, 1) float32 [-1.5, 0.0, 2.0]")
    }

    @Test func refusesWhatItCannotRead() throws {
        let good = try NPY.encode(shape: [2], data: [1, 2])
        #expect(throws: NPYError.self) { try NPY.decode(Array(good.dropLast())) }
        #expect(throws: NPYError.self) { try NPY.decode([0x93, 0x4E]) }
        var wrongType = good
        let f4 = Array("<f4".utf8), f8 = Array("<f8".utf8)
        if let i = (0..<(wrongType.count - 3)).first(where: { Array(wrongType[$0..<($0 + 3)]) == f4 }) {
            wrongType.replaceSubrange(i..<(i + 3), with: f8)
        }
        let error = #expect(throws: NPYError.self) { try NPY.decode(wrongType) }
        #expect(error?.message.contains("float32") == true)
        #expect(throws: NPYError.self) { try NPY.encode(shape: [3], data: [1, 2]) }
    }
}
