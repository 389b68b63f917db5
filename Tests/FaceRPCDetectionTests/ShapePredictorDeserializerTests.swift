import Testing
@testable import FaceRPCDetection
import FaceRPCImage

/// Writes dlib's binary serialization, following dlib/serialize.h and
/// float_details.h, so tests can build small models and corrupt them.
struct DlibTestEncoder {
    var bytes: [UInt8] = []

    mutating func unsigned(_ value: UInt64) {
        var v = value
        var payload: [UInt8] = []
        repeat {
            payload.append(UInt8(v & 0xFF))
            v >>= 8
        } while v != 0
        bytes.append(UInt8(payload.count))
        bytes += payload
    }

    mutating func signed(_ value: Int64) {
        let start = bytes.count
        unsigned(value.magnitude)
        if value < 0 { bytes[start] |= 0x80 }
    }

    /// dlib's float_details: frexp, a mantissa of `digits` bits, then low zero bytes shifted off.
    mutating func float(_ value: Float) {
        if value == 0 {
            signed(0); signed(0); return
        }
        let digits = 24
        let exponent = Int(value.exponent) + 1  // frexp's exponent: value = f * 2^e with 0.5 <= |f| < 1
        let fraction = value.significand / 2 * (value.sign == .minus ? -1 : 1)
        var mantissa = Int64(fraction * Float(1 << digits))
        var e = exponent - digits
        var i = 0
        while i < 8 && mantissa & 0xFF == 0 {
            mantissa >>= 8
            e += 8
            i += 1
        }
        signed(mantissa)
        signed(Int64(e))
    }

    mutating func floatColumn(_ values: [Float]) {
        signed(-Int64(values.count))
        signed(-1)
        for v in values { float(v) }
    }
}

/// A small random but valid shape predictor, with its dlib serialization.
struct SyntheticShapePredictor {
    var initialShape: [Float]
    var forests: [[(splits: [(UInt64, UInt64, Float)], leaves: [[Float]])]]
    var anchors: [[UInt64]]
    var deltas: [[(Float, Float)]]

    init(parts: Int, cascades: Int, trees: Int, depth: Int, features: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        initialShape = (0..<parts * 2).map { _ in Float(rng.unit()) }
        forests = (0..<cascades).map { _ in
            (0..<trees).map { _ in
                let splitCount = (1 << depth) - 1
                let splits = (0..<splitCount).map { _ in
                    (rng.next() % UInt64(features), rng.next() % UInt64(features), Float(rng.unit() * 100 - 50))
                }
                let leaves = (0...splitCount).map { _ in (0..<parts * 2).map { _ in Float(rng.unit() * 0.02 - 0.01) } }
                return (splits, leaves)
            }
        }
        anchors = (0..<cascades).map { _ in (0..<features).map { _ in rng.next() % UInt64(parts) } }
        deltas = (0..<cascades).map { _ in (0..<features).map { _ in (Float(rng.unit() * 0.4 - 0.2), Float(rng.unit() * 0.4 - 0.2)) } }
    }

    var serialized: [UInt8] {
        var e = DlibTestEncoder()
        e.signed(1)
        e.floatColumn(initialShape)
        e.unsigned(UInt64(forests.count))
        for forest in forests {
            e.unsigned(UInt64(forest.count))
            for tree in forest {
                e.unsigned(UInt64(tree.splits.count))
                for (i1, i2, t) in tree.splits {
                    e.unsigned(i1); e.unsigned(i2); e.float(t)
                }
                e.unsigned(UInt64(tree.leaves.count))
                for leaf in tree.leaves { e.floatColumn(leaf) }
            }
        }
        e.unsigned(UInt64(anchors.count))
        for a in anchors {
            e.unsigned(UInt64(a.count))
            for v in a { e.unsigned(v) }
        }
        e.unsigned(UInt64(deltas.count))
        for d in deltas {
            e.unsigned(UInt64(d.count))
            for (x, y) in d { e.float(x); e.float(y) }
        }
        return e.bytes
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Runs `body` on a decoder over a copy of `bytes`.
func decode<T>(_ bytes: [UInt8], _ body: (inout DlibDecoder) throws -> T) throws -> T {
    try bytes.withUnsafeBytes { buffer in
        var decoder = DlibDecoder(buffer)
        return try body(&decoder)
    }
}

@Suite("dlib deserializer")
struct ShapePredictorDeserializerTests {
    @Test("integers decode dlib's control-byte encoding")
    func integers() throws {
        // 0x81 0x0A is -10 as a long (the 5-point model's matrix header),
        // 0x02 0x34 0x12 is 0x1234, 0x01 0x00 is 0.
        let bytes: [UInt8] = [0x81, 0x0A, 0x02, 0x34, 0x12, 0x01, 0x00, 0x03, 0xFF, 0xFF, 0xFF]
        let values = try decode(bytes) { d in
            [try d.readSigned(byteWidth: 8, "a"), Int64(try d.readUInt64("b")), Int64(try d.readUInt64("c")),
             try d.readSigned(byteWidth: 4, "d"), d.isAtEnd ? 1 : 0]
        }
        #expect(values == [-10, 0x1234, 0, 0xFF_FFFF, 1])
    }

    @Test("invalid integer control bytes are rejected")
    func badIntegers() {
        // Zero length, negative unsigned, too wide for int16, magnitude beyond
        // Int32, more than eight bytes. `nil` reads as unsigned long.
        let cases: [([UInt8], Int?)] = [
            ([0x00], nil),
            ([0x81, 0x01], nil),
            ([0x03, 1, 2, 3], 2),
            ([0x04, 0xFF, 0xFF, 0xFF, 0xFF], 4),
            ([0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9], nil),
            ([0x02, 0x01], nil),
            ([], 8),
        ]
        for (bytes, width) in cases {
            #expect(throws: DlibDeserializationError.self, "\(bytes)") {
                try decode(bytes) { d in
                    if let width {
                        _ = try d.readSigned(byteWidth: width, "x")
                    } else {
                        _ = try d.readUInt64("x")
                    }
                }
            }
        }
    }

    @Test("floats decode mantissa * 2^exponent; legacy ASCII and non-finite are rejected")
    func floats() throws {
        // The first value of the 5-point model's mean shape: 0xC6B86E * 2^-24.
        let bytes: [UInt8] = [0x03, 0x6E, 0xB8, 0xC6, 0x81, 0x18]
        #expect(try decode(bytes) { try $0.readFiniteFloat("f") } == Float(0xC6B86E) / Float(1 << 24))
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            guard value.isFinite, value.isNormal || value == 0 else { continue }
            var e = DlibTestEncoder()
            e.float(value)
            let (decoded, atEnd) = try decode(e.bytes) { d in (try d.readFiniteFloat("f"), d.isAtEnd) }
            #expect(decoded == value && atEnd)
        }
        let rejected: [[UInt8]] = [
            Array("1.5 ".utf8),                      // legacy ASCII float
            [0x01, 0x00, 0x02, 0x00, 0x7D],          // exponent 32000: +inf
            [0x01, 0x00, 0x02, 0x02, 0x7D],          // exponent 32002: NaN
            [0x01, 0x01, 0x02, 0x00, 0x7C],          // 1 * 2^31744: overflows
        ]
        for bytes in rejected {
            #expect(throws: DlibDeserializationError.self) { _ = try decode(bytes) { try $0.readFiniteFloat("f") } }
        }
    }

    @Test("a synthetic model round-trips through dlib's format")
    func syntheticRoundTrip() throws {
        let synthetic = SyntheticShapePredictor(parts: 5, cascades: 3, trees: 4, depth: 3, features: 20, seed: 1)
        let predictor = try ShapePredictor(serialized: synthetic.serialized)
        let model = predictor.model
        #expect(predictor.numParts == 5)
        #expect(model.initialShape == synthetic.initialShape)
        #expect(model.cascades.count == 3)
        #expect(model.trees.count == 12)
        #expect(model.splits.count == 12 * 7)
        #expect(model.leafValues.count == 12 * 8 * 10)
        #expect(model.anchors == synthetic.anchors.flatMap { $0.map(UInt32.init) })
        #expect(model.deltas == synthetic.deltas.flatMap { $0.flatMap { [$0.0, $0.1] } })
        let firstTree = synthetic.forests[0][0]
        #expect(model.splits[0] == ShapePredictorSplit(idx1: UInt32(firstTree.splits[0].0), idx2: UInt32(firstTree.splits[0].1), threshold: firstTree.splits[0].2))
        #expect(Array(model.leafValues[0..<10]) == firstTree.leaves[0])
    }

    @Test("every truncation of a synthetic model is an error")
    func syntheticTruncation() {
        let bytes = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 3, depth: 2, features: 10, seed: 2).serialized
        for length in 0..<bytes.count {
            #expect(throws: DlibDeserializationError.self, "length \(length)") {
                _ = try ShapePredictor(serialized: Array(bytes[0..<length]))
            }
        }
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: bytes + [0x01, 0x00]) }
    }

    @Test("byte flips in a synthetic model either fail cleanly or load a usable model")
    func syntheticCorruption() throws {
        let bytes = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 3, depth: 2, features: 10, seed: 3).serialized
        let image = GrayImage(width: 32, height: 32, pixels: (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        var failures = 0, loads = 0
        for position in 0..<bytes.count {
            for mask: UInt8 in [0x01, 0x10, 0x80, 0xFF] {
                var corrupt = bytes
                corrupt[position] ^= mask
                do {
                    let predictor = try ShapePredictor(serialized: corrupt)
                    // A flip inside a value can still be a valid model; it must then run.
                    let points = predictor.predict(image, box: Rect(x: 4, y: 4, width: 20, height: 20))
                    #expect(points.count == predictor.numParts)
                    loads += 1
                } catch is DlibDeserializationError {
                    failures += 1
                }
            }
        }
        #expect(failures > 0 && loads > 0)
    }

    @Test("inconsistent structures are rejected")
    func inconsistent() {
        var s = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 2, depth: 2, features: 10, seed: 4)
        s.forests[1][1].splits[2].0 = 10  // feature index == feature count
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: s.serialized) }

        s = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 2, depth: 2, features: 10, seed: 4)
        s.anchors[0][3] = 5  // anchor == part count
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: s.serialized) }

        s = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 2, depth: 2, features: 10, seed: 4)
        s.forests[0][0].leaves.removeLast()  // 3 splits, 3 leaves
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: s.serialized) }

        s = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 2, depth: 2, features: 10, seed: 4)
        s.forests[0][1].leaves[0].append(0)  // leaf longer than the shape
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: s.serialized) }

        s = SyntheticShapePredictor(parts: 5, cascades: 2, trees: 2, depth: 2, features: 10, seed: 4)
        s.deltas[1].removeLast()  // fewer deltas than anchors
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: s.serialized) }

        var wrongVersion = s.serialized
        wrongVersion[1] = 2
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: wrongVersion) }
    }

    @Test("huge counts fail before allocating")
    func hugeCounts() {
        var e = DlibTestEncoder()
        e.signed(1)
        e.floatColumn([0, 0, 1, 1])
        e.unsigned(UInt64.max)  // number of cascades
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: e.bytes) }

        var f = DlibTestEncoder()
        f.signed(1)
        f.signed(-(Int64.max))  // initial_shape rows
        f.signed(-1)
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: f.bytes) }

        var g = DlibTestEncoder()
        g.signed(1)
        g.floatColumn([0, 0, 1, 1])
        g.unsigned(1)
        g.unsigned(50)  // 50 trees claimed, a few bytes present
        g.bytes += [1, 0, 1, 0]
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(serialized: g.bytes) }
    }

    @Test("missing and non-regular files give I/O errors")
    func files() {
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(path: "/nonexistent/shape_predictor.dat") }
        #expect(throws: DlibDeserializationError.self) { _ = try ShapePredictor(path: "/tmp") }
    }

    @Test("the 5-point model loads with the expected structure",
          .enabled(if: ShapePredictorFixtures.modelPath != nil, "shape_predictor_5_face_landmarks.dat not found"))
    func realModel() throws {
        let predictor = try ShapePredictor(path: ShapePredictorFixtures.modelPath!)
        let model = predictor.model
        #expect(predictor.numParts == 5)
        #expect(!model.cascades.isEmpty)
        for cascade in model.cascades {
            #expect(cascade.featureCount > 0)
            #expect(cascade.treeEnd > cascade.treeStart)
        }
        #expect(model.trees.allSatisfy { ($0.splitCount + 1) & $0.splitCount == 0 })
    }

    @Test("truncated and corrupted copies of the 5-point model are errors, not crashes",
          .enabled(if: ShapePredictorFixtures.modelPath != nil, "shape_predictor_5_face_landmarks.dat not found"))
    func realModelCorruption() throws {
        let bytes = try ShapePredictorModel.readFile(path: ShapePredictorFixtures.modelPath!)
        // Offsets spread over the file plus both ends; each parse reads up to the cut.
        var cuts = Set([0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, bytes.count - 1, bytes.count - 2, bytes.count - 3, bytes.count - 7])
        var rng = SplitMix64(seed: 11)
        for _ in 0..<6 { cuts.insert(Int(rng.next() % UInt64(bytes.count))) }
        for cut in cuts.sorted() {
            #expect(throws: DlibDeserializationError.self, "cut at \(cut)") {
                _ = try ShapePredictor(serialized: Array(bytes[0..<cut]))
            }
        }
        // Version, matrix header and the first floats: flips there either
        // break the structure or change a value (a full, slow parse in debug).
        for position in 0..<12 {
            var corrupt = bytes
            corrupt[position] ^= 0xF0
            do {
                let predictor = try ShapePredictor(serialized: corrupt)
                #expect(predictor.numParts > 0)
            } catch is DlibDeserializationError {}
        }
    }
}
