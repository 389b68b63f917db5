import FaceRPCProtos
import Testing

@Suite("models.proto messages")
struct ModelsMessagesTests {
    static func model(_ name: String, state: ModelState) -> ModelInfo {
        var info = ModelInfo()
        info.name = name
        info.task = "age"
        info.architecture = "levi-hassner"
        info.version = "2026-11-23T10:00:00Z"
        info.state = state
        info.error = state == .unavailable ? "no weights: \(unicodeSamples[1])" : ""
        info.inputWidth = 227
        info.inputHeight = 227
        info.inputChannels = 3
        info.labels = ["0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100", ""]
        info.source = "/var/lib/facerpc/\(name).fwt"
        info.parameters = 11_400_000_000
        info.sha256 = String(repeating: "ab", count: 32)
        info.mean = [104.0, 117.0, 123.0, -0.5, .greatestFiniteMagnitude]
        info.scale = 1.0 / 255.0
        return info
    }

    @Test("ModelInfo round-trips every field")
    func modelInfo() throws {
        let info = Self.model("lh-age", state: .unavailable)
        let (copy, _) = try roundTrip(info)
        #expect(copy == info)
        #expect(copy.labels.last == "")
    }

    @Test("ListModelsResponse round-trips several models")
    func listResponse() throws {
        let response = ListModelsResponse(models: [
            Self.model("age", state: .serving),
            Self.model("gender", state: .loading),
            Self.model("x", state: .unrecognized(12)),
            ModelInfo(),
        ])
        let (copy, _) = try roundTrip(response)
        #expect(copy == response)
        #expect(copy.models[3] == ModelInfo())
        #expect(copy.models[2].state == .unrecognized(12))
    }

    @Test("ListModelsRequest has no fields and encodes to nothing")
    func listRequest() throws {
        #expect(ListModelsRequest().serializedBytes().isEmpty)
        // Unknown fields are skipped.
        #expect(try ListModelsRequest(serializedBytes: [0x08, 0x05]) == ListModelsRequest())
    }

    @Test("ModelState wire numbers follow the proto")
    func stateNumbers() {
        #expect(ModelState.allCases.map(\.rawValue) == [0, 1, 2, 3])
        for state in ModelState.allCases {
            #expect(ModelState(rawValue: state.rawValue) == state)
        }
    }
}
