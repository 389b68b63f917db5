import FaceRPCProtos
import Testing

@Suite("predict.proto messages")
struct PredictMessagesTests {
    static let options: PredictOptions = {
        var options = PredictOptions()
        options.ageModel = "lh-age"
        options.genderModel = "性別-v2"
        options.faceCrop = true
        options.minFaceSize = 24.5
        options.scoreThreshold = 0.75
        options.includeDistributions = true
        options.maxFaces = 16
        return options
    }()

    static func face(_ index: Int) -> Face {
        var face = Face()
        let offset = Float(index) * 10
        face.box = Box(x: 1.5 + offset, y: 2.25, width: 100, height: 120.75)
        face.score = 0.99
        face.landmarks = (0..<5).map { Point(x: Float($0) + offset, y: -Float($0)) }
        var age = AgeEstimate()
        age.years = 27.3
        age.bucket = .age25To32
        age.confidence = 0.61
        age.distribution = (0..<81).map { Float($0) / 81 }
        face.age = age
        var gender = GenderEstimate()
        gender.label = .female
        gender.confidence = 0.93
        gender.distribution = [0.93, 0.07]
        face.gender = gender
        return face
    }

    @Test("PredictRequest round-trips a JPEG image")
    func jpegRequest() throws {
        let request = PredictRequest(image: .jpeg(patternBytes(count: 70_001)), options: Self.options)
        let (copy, _) = try roundTrip(request)
        #expect(copy == request)
        guard case .jpeg(let bytes)? = copy.image else {
            Issue.record("expected a JPEG image, got \(String(describing: copy.image))")
            return
        }
        #expect(bytes.count == 70_001)
    }

    @Test("PredictRequest round-trips a raw image")
    func rawRequest() throws {
        let raw = RawImage(width: 64, height: 48, stride: 200, rgb: patternBytes(count: 200 * 48))
        let request = PredictRequest(image: .raw(raw), options: nil)
        let (copy, _) = try roundTrip(request)
        #expect(copy == request)
        #expect(copy.image == .raw(raw))
        #expect(copy.options == nil)
    }

    @Test("The oneof keeps an empty member distinct from no image")
    func emptyOneofMembers() throws {
        let emptyJPEG = PredictRequest(image: .jpeg([]))
        let (jpegCopy, jpegBytes) = try roundTrip(emptyJPEG)
        #expect(jpegCopy.image == .jpeg([]))
        #expect(jpegBytes == [0x0A, 0x00])

        let emptyRaw = PredictRequest(image: .raw(RawImage()))
        let (rawCopy, rawBytes) = try roundTrip(emptyRaw)
        #expect(rawCopy.image == .raw(RawImage()))
        #expect(rawBytes == [0x12, 0x00])

        #expect(try roundTrip(PredictRequest()).copy.image == nil)
    }

    @Test("The last oneof member on the wire wins")
    func lastOneofWins() throws {
        let jpeg = PredictRequest(image: .jpeg([1, 2, 3])).serializedBytes()
        let raw = PredictRequest(image: .raw(RawImage(width: 1, height: 1, rgb: [9, 9, 9]))).serializedBytes()
        #expect(try PredictRequest(serializedBytes: jpeg + raw).image == .raw(RawImage(width: 1, height: 1, rgb: [9, 9, 9])))
        #expect(try PredictRequest(serializedBytes: raw + jpeg).image == .jpeg([1, 2, 3]))
    }

    @Test("PredictResponse round-trips faces, timings and models")
    func response() throws {
        var response = PredictResponse()
        response.faces = (0..<3).map(Self.face)
        response.isHuman = true
        var timings = Timings()
        timings.decodeMs = 1.25
        timings.detectMs = 8.5
        timings.alignMs = 0.5
        timings.queueMs = 0.125
        timings.ageMs = 12
        timings.genderMs = 11
        timings.totalMs = 33.375
        response.timings = timings
        response.imageWidth = 1920
        response.imageHeight = 1080
        response.ageModel = "age"
        response.genderModel = unicodeSamples[2]
        let (copy, _) = try roundTrip(response)
        #expect(copy == response)
        #expect(copy.faces[2].landmarks.count == 5)
        #expect(copy.faces[0].age?.distribution.count == 81)
    }

    @Test("Faces with absent sub-messages stay absent")
    func sparseFace() throws {
        var face = Face()
        face.score = 0.5
        let (copy, _) = try roundTrip(face)
        #expect(copy.box == nil && copy.age == nil && copy.gender == nil)
        #expect(copy == face)
    }

    @Test("Enums round-trip known and unrecognized values")
    func enums() throws {
        for bucket in AgeBucket.allCases + [.unrecognized(9), .unrecognized(-7)] {
            var age = AgeEstimate()
            age.bucket = bucket
            #expect(try roundTrip(age).copy.bucket == bucket)
        }
        for label in Gender.allCases + [.unrecognized(3), .unrecognized(.min)] {
            var gender = GenderEstimate()
            gender.label = label
            #expect(try roundTrip(gender).copy.label == label)
        }
        #expect(AgeBucket.allCases.map(\.rawValue) == Array(0...8))
        #expect(Gender.allCases.map(\.rawValue) == [0, 1, 2])
        #expect(AgeBucket(rawValue: 8) == .age60To100)
    }

    @Test("Float fields keep infinities, subnormals and NaN")
    func specialFloats() throws {
        var timings = Timings()
        timings.decodeMs = .infinity
        timings.detectMs = -.infinity
        timings.alignMs = .leastNonzeroMagnitude
        timings.queueMs = -0.0
        timings.totalMs = .nan
        let copy = try roundTrip(timings).copy
        #expect(copy.decodeMs == .infinity && copy.detectMs == -.infinity)
        #expect(copy.alignMs == .leastNonzeroMagnitude)
        // protobuf-c treats -0.0 as the default and omits it (the C++ runtime
        // writes it), so it comes back as +0.0: equal, not identical.
        #expect(copy.queueMs == 0)
        #expect(copy.totalMs.isNaN)
    }

    @Test("Small messages round-trip alone")
    func smallMessages() throws {
        #expect(try roundTrip(Self.options).copy == Self.options)
        let box = Box(x: -1, y: 2, width: 3, height: 4)
        #expect(try roundTrip(box).copy == box)
        let point = Point(x: 0.5, y: 1e-3)
        #expect(try roundTrip(point).copy == point)
        let raw = RawImage(width: 2, height: 1, rgb: [1, 2, 3, 4, 5, 6])
        #expect(try roundTrip(raw).copy == raw)
        #expect(try roundTrip(Self.face(1)).copy == Self.face(1))
    }
}
