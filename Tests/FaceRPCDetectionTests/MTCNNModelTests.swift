import FaceRPCEngine
import FaceRPCImage
import Foundation
import Testing
@testable import FaceRPCDetection

/// The converted networks and the whole detector against the Python
/// reference (scripts/mtcnn-reference.py). Disabled when the converted models
/// (scripts/convert-mtcnn.py) or the reference's Python modules are missing.
@Suite struct MTCNNModelTests {
    struct Case: Decodable {
        var stage: String
        var name: String
        var input_shape: [Int]
        var output_shape: [Int]
    }

    @Test(.enabled(if: MTCNNFixtures.haveReference))
    func convertedNetsOnOurEngineMatchONNXRuntime() throws {
        let models = try #require(MTCNNFixtures.modelsDirectory)
        let dir = NSTemporaryDirectory() + "mtcnn-ort-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try MTCNNFixtures.reference(["ort", models, dir])
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/cases.json")))
        #expect(cases.count == 4)
        for c in cases {
            let stage = try #require(MTCNNStage(rawValue: c.stage))
            var graph = try MTCNNNet.load(stage: stage, modelsDirectory: models).graph
            graph.inputShape = Array(c.input_shape.dropFirst())  // P-net is re-planned per size, as the detector does
            let net = try Network(graph: graph, threads: 2)
            #expect([c.output_shape[0]] + net.outputShape == c.output_shape)
            let input = try readFloats("\(dir)/\(c.name).input.f32")
            let expected = try readFloats("\(dir)/\(c.name).output.f32")
            let got = try net.run(input, batch: c.input_shape[0])
            #expect(got.count == expected.count)
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
            print("MTCNN \(c.name): max |engine - onnxruntime| = \(worst)")
            #expect(worst < 1e-4, "\(c.name)")
        }
    }

    /// Matches our faces to the reference's one to one: IoU > 0.9, every
    /// landmark within 2 px, score within 0.01.
    func compare(_ file: String, minFaceSize: Double = 20) throws {
        let models = try #require(MTCNNFixtures.modelsDirectory)
        let (image, reference) = try MTCNNFixtures.referenceDetection(file, minFaceSize: minFaceSize)
        let detector = try FaceDetector(modelsDirectory: models, threads: 2)
        let faces = try detector.detect(image, minFaceSize: minFaceSize)
        print("MTCNN \((file as NSString).lastPathComponent): \(faces.count) faces, reference \(reference.faces.count)")
        #expect(faces.count == reference.faces.count, "\(file)")
        #expect(zip(faces, faces.dropFirst()).allSatisfy { $0.score >= $1.score })
        var unmatched = faces
        for ref in reference.faces {
            let refBox = Rect(x: ref.box[0], y: ref.box[1], width: ref.box[2] - ref.box[0], height: ref.box[3] - ref.box[1])
            guard let best = unmatched.indices.max(by: { iou(unmatched[$0].box, refBox) < iou(unmatched[$1].box, refBox) }) else {
                Issue.record("\(file): no face for reference box \(ref.box)")
                continue
            }
            let face = unmatched.remove(at: best)
            #expect(iou(face.box, refBox) > 0.9, "\(file): box \(face.box) vs \(ref.box)")
            #expect(abs(Double(face.score) - ref.score) < 0.01)
            for (p, q) in zip(face.landmarks, ref.landmarks) {
                #expect(abs(p.x - q[0]) < 2 && abs(p.y - q[1]) < 2, "\(file): landmark \(p) vs \(q)")
            }
        }
    }

    @Test(.enabled(if: MTCNNFixtures.haveData), arguments: [
        "dlib_faces/2008_002470.jpg", "dlib_faces/2008_004176.jpg", "dlib_faces/2009_004587.jpg",
        "adience_align/family-home.png", "demo_smahesh29/man1.jpg", "dlib_faces/dogs.jpg",
    ])
    func wholePipelineMatchesTheReference(file: String) throws {
        try compare(MTCNNFixtures.dataDirectory! + "/" + file)
    }

    @Test(.enabled(if: MTCNNFixtures.haveData))
    func largerMinimumFaceSizeMatchesTheReference() throws {
        try compare(MTCNNFixtures.dataDirectory! + "/adience_align/a.png", minFaceSize: 40)
    }

    /// Recall at IoU 0.4 on dlib's 9 hand-labelled group photos, and what it
    /// finds on dogs.jpg and bald_guys.jpg. The figures are printed for
    /// docs/DETECTION.md; the assertions are loose floors far below them.
    @Test(.enabled(if: MTCNNFixtures.haveData))
    func recallOnDlibGroupPhotos() throws {
        let models = try #require(MTCNNFixtures.modelsDirectory)
        let dir = MTCNNFixtures.dataDirectory! + "/dlib_faces"
        var truth = try MTCNNFixtures.dlibBoxes(dir + "/testing.xml")
        truth.merge(try MTCNNFixtures.dlibBoxes(dir + "/training.xml")) { $0 + $1 }
        let detector = try FaceDetector(modelsDirectory: models, threads: 2)
        var found = 0, total = 0, unmatchedDetections = 0
        for (file, boxes) in truth.sorted(by: { $0.key < $1.key }) {
            let (image, _) = try MTCNNFixtures.referenceDetection(dir + "/" + file)
            let faces = try detector.detect(image)
            let hits = boxes.filter { b in faces.contains { iou($0.box, b) >= 0.4 } }.count
            unmatchedDetections += faces.filter { f in !boxes.contains { iou(f.box, $0) >= 0.4 } }.count
            print("MTCNN recall \(file): \(hits)/\(boxes.count), \(faces.count) detections")
            found += hits
            total += boxes.count
        }
        // dogs.jpg has no human face. bald_guys.jpg, despite the data README
        // ("backs of heads"), is a collage of 24 frontal celebrity faces: its
        // detections are counted, not called false positives.
        let (dogs, _) = try MTCNNFixtures.referenceDetection(dir + "/dogs.jpg")
        let dogFaces = try detector.detect(dogs)
        let (collage, _) = try MTCNNFixtures.referenceDetection(dir + "/bald_guys.jpg")
        let collageFaces = try detector.detect(collage)
        print("MTCNN recall at IoU 0.4: \(found)/\(total); detections matching no hand box: \(unmatchedDetections); "
              + "faces on dogs.jpg: \(dogFaces.count); faces on bald_guys.jpg (24 visible): \(collageFaces.count)")
        #expect(total == 43)
        #expect(Double(found) / Double(total) > 0.5)
        #expect(dogFaces.count <= 1)
        #expect(collageFaces.count >= 20)
    }

    @Test(.enabled(if: MTCNNFixtures.haveModels))
    func invalidArgumentsAndTinyImages() throws {
        let detector = try FaceDetector(modelsDirectory: try #require(MTCNNFixtures.modelsDirectory), threads: 1)
        let image = RGBImage(width: 64, height: 64)
        #expect(throws: FaceDetectorError.self) { try detector.detect(image, minFaceSize: 2) }
        #expect(throws: FaceDetectorError.self) { try detector.detect(image, minFaceSize: .nan) }
        #expect(throws: FaceDetectorError.self) { try detector.detect(image, thresholds: (0.6, 1.5, 0.7)) }
        #expect(throws: FaceDetectorError.self) { try detector.detect(RGBImage(width: 0, height: 10)) }
        #expect(throws: FaceDetectorError.self) { try detector.detect(RGBImage(width: MTCNNLimits.maxImageSide + 1, height: 1)) }
        #expect(throws: FaceDetectorError.self) { try detector.detect(RGBImage(width: 10000, height: 3001)) }
        // Too small for one pyramid level, and a flat grey image: no faces, no error.
        #expect(try detector.detect(RGBImage(width: 15, height: 15)).isEmpty)
        let grey = RGBImage(width: 200, height: 150, pixels: [UInt8](repeating: 128, count: 200 * 150 * 3))
        #expect(try detector.detect(grey).isEmpty)
    }

    /// With several threads P-net levels run concurrently; the result must
    /// not depend on it.
    @Test(.enabled(if: MTCNNFixtures.haveData))
    func threadCountDoesNotChangeTheResult() throws {
        let models = try #require(MTCNNFixtures.modelsDirectory)
        let (image, _) = try MTCNNFixtures.referenceDetection(MTCNNFixtures.dataDirectory! + "/dlib_faces/2007_007763.jpg")
        let one = try FaceDetector(modelsDirectory: models, threads: 1).detect(image)
        let three = try FaceDetector(modelsDirectory: models, threads: 3).detect(image)
        #expect(one.count == 7)
        #expect(one.count == three.count)
        for (a, b) in zip(one, three) {
            #expect(iou(a.box, b.box) > 0.999 && abs(a.score - b.score) < 1e-5)
        }
    }

    @Test(.enabled(if: MTCNNFixtures.haveModels))
    func tamperedWeightsAreRefused() throws {
        let models = try #require(MTCNNFixtures.modelsDirectory)
        let copy = NSTemporaryDirectory() + "mtcnn-tamper-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let fm = FileManager.default
        for stage in ["pnet", "rnet", "onet"] {
            try fm.createDirectory(atPath: "\(copy)/mtcnn-\(stage)", withIntermediateDirectories: true)
            for name in ["detector.json", "\(stage).onnx"] {
                try fm.copyItem(atPath: "\(models)/mtcnn-\(stage)/\(name)", toPath: "\(copy)/mtcnn-\(stage)/\(name)")
            }
        }
        _ = try FaceDetector(modelsDirectory: copy, threads: 1)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(copy)/mtcnn-rnet/rnet.onnx")))
        bytes[bytes.count - 100] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: "\(copy)/mtcnn-rnet/rnet.onnx"))
        #expect {
            _ = try FaceDetector(modelsDirectory: copy, threads: 1)
        } throws: { error in
            (error as? FaceDetectorError)?.message.contains("SHA-256") == true
        }
        // A manifest for the wrong stage is refused too.
        try fm.removeItem(atPath: "\(copy)/mtcnn-rnet/detector.json")
        try fm.copyItem(atPath: "\(models)/mtcnn-onet/detector.json", toPath: "\(copy)/mtcnn-rnet/detector.json")
        #expect(throws: FaceDetectorError.self) { _ = try FaceDetector(modelsDirectory: copy, threads: 1) }
    }

    /// detect() time on a 640x480 photo with 1 and 2 threads (printed, not
    /// asserted). Release builds only: debug kernels are ~100x slower and
    /// their times mean nothing. Run with
    /// `swift test -c release -Xswiftc -enable-testing --filter speedOn640x480`.
    @Test(.enabled(if: MTCNNFixtures.haveData && MTCNNFixtures.optimized))
    func speedOn640x480() throws {
        let models = try #require(MTCNNFixtures.modelsDirectory)
        let (image, reference) = try MTCNNFixtures.referenceDetection(
            MTCNNFixtures.dataDirectory! + "/adience_align/family-home.png", resize: (640, 480))
        for threads in [1, 2] {
            let detector = try FaceDetector(modelsDirectory: models, threads: threads)
            var faces = try detector.detect(image)  // warm-up
            var times: [Double] = []
            for _ in 0..<7 {
                let start = DispatchTime.now().uptimeNanoseconds
                faces = try detector.detect(image)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            times.sort()
            print("MTCNN 640x480 threads=\(threads): median \(times[times.count / 2]) ms, min \(times[0]) ms, \(faces.count) faces")
            // Where the time goes (medians over 7 runs).
            var stageTimes: [[Double]] = [[], [], [], []]
            for _ in 0..<7 {
                var t = DispatchTime.now().uptimeNanoseconds
                func lap(_ i: Int) {
                    let now = DispatchTime.now().uptimeNanoseconds
                    stageTimes[i].append(Double(now - t) / 1e6)
                    t = now
                }
                let planar = PlanarImage(image, mean: detector.mean, scale: detector.scale)
                lap(0)
                let p = try detector.proposals(planar, minFaceSize: 20, threshold: 0.6)
                lap(1)
                let r = try detector.refine(planar, p, threshold: 0.7)
                lap(2)
                _ = try detector.output(planar, r, threshold: 0.7)
                lap(3)
                if threads == 2 && stageTimes[0].count == 1 { print("MTCNN 640x480 candidates: P-net \(p.count), R-net \(r.count)") }
            }
            let medians = stageTimes.map { $0.sorted()[3] }
            print("MTCNN 640x480 threads=\(threads) stages (ms): normalise \(medians[0]), P-net pyramid \(medians[1]), R-net \(medians[2]), O-net \(medians[3])")
            #expect(faces.count == reference.faces.count)
        }
    }
}

/// Stage by stage against the reference's trace, to tell a real divergence
/// from the cascade amplifying float rounding.
@Suite struct MTCNNStageTests {
    @Test(.enabled(if: MTCNNFixtures.haveData), arguments: ["adience_align/family-home.png", "dlib_faces/2008_002470.jpg"])
    func stagesMatchTheReferenceTrace(file: String) throws {
        let models = try #require(MTCNNFixtures.modelsDirectory)
        let (image, reference) = try MTCNNFixtures.referenceDetection(MTCNNFixtures.dataDirectory! + "/" + file, trace: true)
        let stages = try #require(reference.stages)
        let detector = try FaceDetector(modelsDirectory: models, threads: 2)
        let planar = PlanarImage(image, mean: detector.mean, scale: detector.scale)
        let pnet = try detector.proposals(planar, minFaceSize: 20, threshold: 0.6)
        let rnet = try detector.refine(planar, pnet, threshold: 0.7)
        for (name, ours, theirs) in [("pnet", pnet, stages["pnet"] ?? []), ("rnet", rnet, stages["rnet"] ?? [])] {
            var worst = 1.0, matched = 0
            for row in theirs {
                let r = Rect(x: row[0], y: row[1], width: row[2] - row[0], height: row[3] - row[1])
                let best = ours.map { iou(Rect(x: $0.x1, y: $0.y1, width: $0.width, height: $0.height), r) }.max() ?? 0
                worst = min(worst, best)
                if best > 0.99 { matched += 1 } else { print("MTCNN \(file) \(name): reference box \(row) best IoU \(best)") }
            }
            print("MTCNN \(file) \(name): \(ours.count) boxes, reference \(theirs.count), \(matched) matched at IoU > 0.99, worst best-IoU \(worst)")
            #expect(ours.count == theirs.count, "\(file) \(name)")
            #expect(worst > 0.99, "\(file) \(name)")
        }
    }
}
