import ArgumentParser
import FaceRPCClient
import FaceRPCCore
import FaceRPCImage
import FaceRPCProtos
import Foundation

/// `facerpc predict`: age and gender of the faces in photos, through a running server.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Find the faces in photos and tell their age and gender.",
        discussion: "Prints a table per image, or with --json one object per image per line."
    )

    @OptionGroup var address: AddressOptions

    @Flag(help: "One JSON object per image, one per line.") var json = false
    @Flag(name: .customLong("no-detect"), help: "Treat each whole image as one face crop.") var noDetect = false
    @Option(help: "Write the (last) photo with boxes and labels drawn on it, as JPEG.") var annotate: String?
    @Option(help: "Age model to use (default: the server's, 'age').") var ageModel: String?
    @Option(help: "Gender model to use (default: 'gender').") var genderModel: String?
    @Option(help: "Smallest face to look for, in pixels.") var minFaceSize: Float?
    @Option(help: "Detection score threshold, 0...1.") var scoreThreshold: Float?
    @Flag(help: "Include the full age and gender distributions (JSON only).") var distributions = false
    @Option(help: "Seconds to wait for each answer.") var timeout: Double = 30
    @Argument(help: "JPEG files.") var images: [String]

    /// Largest file read from disk, matching the server's default frame limit.
    static let maxImageBytes = 4 * 1024 * 1024 - 1024

    func run() async throws {
        let endpoint = try address.endpoint()
        let connection: FaceRPCConnection
        do {
            connection = try await address.connect(timeout: .seconds(5))
        } catch {
            FileHandle.standardError.write(Data("error: \(endpoint): \(error)\n".utf8))
            throw ExitCode(2)
        }
        defer { Task { await connection.close() } }
        var failed = false
        for path in images {
            let bytes: [UInt8]
            do {
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
                guard size <= Self.maxImageBytes else {
                    throw ValidationError("\(path) is \(size) bytes; the limit is \(Self.maxImageBytes)")
                }
                bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                FileHandle.standardError.write(Data("error: \(path): \(error)\n".utf8))
                failed = true
                continue
            }
            var request = PredictRequest()
            request.image = .jpeg(bytes)
            var options = PredictOptions()
            options.faceCrop = noDetect
            options.ageModel = ageModel ?? ""
            options.genderModel = genderModel ?? ""
            options.minFaceSize = minFaceSize ?? 0
            options.scoreThreshold = scoreThreshold ?? 0
            options.includeDistributions = distributions
            request.options = options
            let response: PredictResponse
            do {
                response = try await connection.predict(request, timeout: .milliseconds(Int64(timeout * 1000)))
            } catch {
                FileHandle.standardError.write(Data("error: \(path): \(error)\n".utf8))
                failed = true
                continue
            }
            if json {
                print(PredictJSON.line(image: path, response: response, distributions: distributions))
            } else {
                printTable(path: path, response: response)
            }
            if let annotate {
                try writeAnnotated(bytes: bytes, response: response, to: annotate)
            }
        }
        if failed { throw ExitCode(1) }
    }

    private func printTable(path: String, response: PredictResponse) {
        print("\(path): \(response.faces.count) face(s), \(response.imageWidth)x\(response.imageHeight), "
              + String(format: "%.1f ms", response.timings?.totalMs ?? 0))
        for (index, face) in response.faces.enumerated() {
            let box = face.box ?? Box()
            let age = face.age ?? AgeEstimate()
            let gender = face.gender ?? GenderEstimate()
            print(String(format: "  #%d  box %4.0f,%4.0f %4.0fx%-4.0f  score %.2f  age %5.1f (%@, %.0f%%)  %@ (%.0f%%)",
                         index + 1, box.x, box.y, box.width, box.height, face.score, age.years,
                         PredictJSON.bucketLabel(age.bucket), age.confidence * 100,
                         PredictJSON.genderLabel(gender.label), gender.confidence * 100))
        }
    }

    private func writeAnnotated(bytes: [UInt8], response: PredictResponse, to path: String) throws {
        var image = try JPEGDecoder.decode(bytes).image
        for face in response.faces {
            guard let box = face.box else { continue }
            let male = face.gender?.label == .male
            let color = male ? RGBColor(r: 40, g: 120, b: 255) : RGBColor(r: 255, g: 60, b: 140)
            image.drawRectangle(Rect(x: Double(box.x), y: Double(box.y), width: Double(box.width), height: Double(box.height)),
                                color: color, thickness: max(2, Int(box.width / 60)))
            let label = "\(PredictJSON.genderLabel(face.gender?.label ?? .unspecified)) \(Int((face.age?.years ?? 0).rounded()))"
            let scale = max(1, Int(box.width / 80))
            image.drawText(label, x: Int(box.x), y: max(0, Int(box.y) - 9 * scale), color: RGBColor(r: 255, g: 255, b: 255),
                           background: color, scale: scale)
        }
        let encoded = try JPEGEncoder.encode(image, quality: 90)
        try Data(encoded).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// The JSON shape shared by `facerpc predict --json`, `facerpc-py` and `facerpc-c`.
enum PredictJSON {
    static func bucketLabel(_ bucket: AgeBucket) -> String {
        switch bucket {
        case .age0To2: return "0-2"
        case .age4To6: return "4-6"
        case .age8To12: return "8-12"
        case .age15To20: return "15-20"
        case .age25To32: return "25-32"
        case .age38To43: return "38-43"
        case .age48To53: return "48-53"
        case .age60To100: return "60-100"
        default: return ""
        }
    }

    static func genderLabel(_ gender: Gender) -> String {
        switch gender {
        case .male: return "male"
        case .female: return "female"
        default: return ""
        }
    }

    static func rounded(_ value: Float, _ digits: Double = 1000) -> Double {
        (Double(value) * digits).rounded() / digits
    }

    static func line(image: String, response: PredictResponse, distributions: Bool) -> String {
        var faces: [[String: Any]] = []
        for face in response.faces {
            let box = face.box ?? Box()
            var age: [String: Any] = ["years": rounded(face.age?.years ?? 0, 100),
                                      "bucket": bucketLabel(face.age?.bucket ?? .unspecified),
                                      "confidence": rounded(face.age?.confidence ?? 0)]
            var gender: [String: Any] = ["label": genderLabel(face.gender?.label ?? .unspecified),
                                         "confidence": rounded(face.gender?.confidence ?? 0)]
            if distributions {
                age["distribution"] = (face.age?.distribution ?? []).map { rounded($0, 1e6) }
                gender["distribution"] = (face.gender?.distribution ?? []).map { rounded($0, 1e6) }
            }
            faces.append([
                "box": ["x": rounded(box.x, 10), "y": rounded(box.y, 10), "width": rounded(box.width, 10), "height": rounded(box.height, 10)],
                "score": rounded(face.score),
                "landmarks": face.landmarks.map { [rounded($0.x, 10), rounded($0.y, 10)] },
                "age": age,
                "gender": gender,
            ])
        }
        let t = response.timings ?? Timings()
        let object: [String: Any] = [
            "image": image,
            "is_human": response.isHuman,
            "faces": faces,
            "timings_ms": ["decode": rounded(t.decodeMs), "detect": rounded(t.detectMs), "align": rounded(t.alignMs),
                           "queue": rounded(t.queueMs), "age": rounded(t.ageMs), "gender": rounded(t.genderMs),
                           "total": rounded(t.totalMs)],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
