import Foundation
import Testing
@testable import FaceRPCImage

// Foundation also has an AffineTransform; the tests mean ours.
typealias AffineTransform = FaceRPCImage.AffineTransform

/// A plain scalar bilinear sampler (dlib's rules) to check the real one against.
func referenceWarp(_ img: RGBImage, _ m: AffineTransform, _ w: Int, _ h: Int) -> RGBImage {
    var out = RGBImage(width: w, height: h)
    for y in 0..<h {
        for x in 0..<w {
            let sx = (m.a * Double(x) + m.b * Double(y)) + m.tx
            let sy = (m.c * Double(x) + m.d * Double(y)) + m.ty
            let fx: Double = sx.rounded(.down)
            let fy: Double = sy.rounded(.down)
            guard fx >= 0, fy >= 0, fx + 1 < Double(img.width), fy + 1 < Double(img.height) else { continue }
            let x0 = Int(fx), y0 = Int(fy)
            func px(_ xx: Int, _ yy: Int, _ c: Int) -> Double { Double(img.pixels[(yy * img.width + xx) * 3 + c]) }
            for c in 0..<3 {
                let u: Double = sx - fx
                let v: Double = sy - fy
                let top: Double = (1 - u) * px(x0, y0, c) + u * px(x0 + 1, y0, c)
                let bottom: Double = (1 - u) * px(x0, y0 + 1, c) + u * px(x0 + 1, y0 + 1, c)
                let value: Double = (1 - v) * top + v * bottom
                out.pixels[(y * w + x) * 3 + c] = UInt8(value)
            }
        }
    }
    return out
}

func noiseImage(_ w: Int, _ h: Int, seed: UInt64 = 7) -> RGBImage {
    var s = seed
    var img = RGBImage(width: w, height: h)
    for i in 0..<img.pixels.count {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        img.pixels[i] = UInt8(truncatingIfNeeded: s >> 56)
    }
    return img
}

@Suite("image operations")
struct ImageOpsTests {
    @Test("identity warp copies the image except the last row and column (dlib's border rule)")
    func identityWarp() {
        let img = noiseImage(13, 9)
        let out = ImageOps.warpAffine(img, transform: .identity, width: 13, height: 9)
        for y in 0..<9 {
            for x in 0..<13 {
                let i = (y * 13 + x) * 3
                let want: [UInt8] = (x == 12 || y == 8) ? [0, 0, 0] : Array(img.pixels[i..<i + 3])
                #expect(Array(out.pixels[i..<i + 3]) == want)
            }
        }
    }

    @Test("integer translation shifts pixels; half-pixel translation averages neighbours")
    func translations() {
        let img = noiseImage(10, 8)
        let shifted = ImageOps.warpAffine(img, transform: AffineTransform(a: 1, b: 0, c: 0, d: 1, tx: 2, ty: 1), width: 6, height: 5)
        for y in 0..<5 { for x in 0..<6 { for c in 0..<3 {
            #expect(shifted.pixels[(y * 6 + x) * 3 + c] == img.pixels[((y + 1) * 10 + x + 2) * 3 + c])
        } } }
        let half = ImageOps.warpAffine(img, transform: AffineTransform(a: 1, b: 0, c: 0, d: 1, tx: 0.5, ty: 0), width: 8, height: 7)
        let a = Int(img.pixels[0]), b = Int(img.pixels[3])
        #expect(Int(half.pixels[0]) == (a + b) / 2)
    }

    @Test("random rotations, scales and offsets match the scalar reference exactly")
    func randomTransforms() {
        let img = noiseImage(37, 29)
        var s: UInt64 = 99
        func r() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) }
        for _ in 0..<50 {
            let angle = (r() - 0.5) * 6.3, scale = 0.3 + r() * 2
            let m = AffineTransform(a: scale * cos(angle), b: -scale * sin(angle), c: scale * sin(angle), d: scale * cos(angle),
                                    tx: (r() - 0.3) * 40, ty: (r() - 0.3) * 30)
            let w = 5 + Int(r() * 30), h = 5 + Int(r() * 30)
            #expect(ImageOps.warpAffine(img, transform: m, width: w, height: h) == referenceWarp(img, m, w, h))
        }
        // Non-finite transforms give black, not a trap.
        let nan = AffineTransform(a: .nan, b: 0, c: 0, d: 1, tx: 0, ty: 0)
        #expect(ImageOps.warpAffine(img, transform: nan, width: 4, height: 4) == RGBImage(width: 4, height: 4))
    }

    @Test("grayscale is dlib's truncated channel mean")
    func grayscale() {
        let img = RGBImage(width: 3, height: 1, pixels: [255, 255, 255, 10, 20, 31, 1, 1, 0])
        #expect(ImageOps.grayscale(img).pixels == [255, 20, 0])
    }

    @Test("bilinear resize: same size is identity, upsampling interpolates, planar agrees with bytes")
    func resize() {
        let img = noiseImage(21, 17)
        #expect(ImageOps.resizeBilinear(img, width: 21, height: 17) == img)
        // 1x2 -> 1x4 with half-pixel centres: rows map to -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped).
        let col = RGBImage(width: 1, height: 2, pixels: [0, 0, 0, 200, 100, 40])
        let up = ImageOps.resizeBilinear(col, width: 1, height: 4)
        #expect(up.pixels == [0, 0, 0, 50, 25, 10, 150, 75, 30, 200, 100, 40])
        // Degenerate sizes: empty or black, never a trap.
        #expect(ImageOps.resizeBilinear(img, width: 0, height: 5) == RGBImage(width: 0, height: 5))
        #expect(ImageOps.resizeBilinear(RGBImage(width: 0, height: 0), width: 3, height: 2) == RGBImage(width: 3, height: 2))
        #expect(ImageOps.resizeBilinearPlanar(img, width: -1, height: 5, mean: [0, 0, 0], scale: 1).isEmpty)
        #expect(ImageOps.warpAffine(img, transform: .identity, width: -3, height: 4) == RGBImage(width: 0, height: 4))
        let small = ImageOps.resizeBilinear(img, width: 13, height: 9)
        let planar = ImageOps.resizeBilinearPlanar(img, width: 13, height: 9, mean: [127.5, 127.5, 127.5], scale: 0.0078125)
        #expect(planar.count == 13 * 9 * 3)
        for y in 0..<9 { for x in 0..<13 { for c in 0..<3 {
            let byte = Float(small.pixels[(y * 13 + x) * 3 + c])
            let value = planar[c * 117 + y * 13 + x] / 0.0078125 + 127.5
            #expect(abs(value - byte) <= 0.5 + 1e-3)
        } } }
    }

    @Test("annotation drawing: outline, clipping, text pixels")
    func drawing() {
        var img = RGBImage(width: 20, height: 12)
        img.drawRectangle(Rect(x: 2, y: 3, width: 10, height: 6), color: .white, thickness: 1)
        func at(_ x: Int, _ y: Int) -> UInt8 { img.pixels[(y * 20 + x) * 3] }
        #expect(at(2, 3) == 255 && at(11, 3) == 255 && at(2, 8) == 255 && at(11, 8) == 255)
        #expect(at(5, 5) == 0 && at(12, 3) == 0 && at(2, 9) == 0)
        img.drawRectangle(Rect(x: -100, y: -100, width: 1e12, height: .infinity), color: .red)  // no trap
        img.drawRectangle(Rect(x: 15, y: -5, width: 50, height: 50), color: .red, thickness: 2)
        #expect(at(15, 0) == 230 && at(16, 11) == 230)
        var text = RGBImage(width: 12, height: 7)
        text.drawText("1", x: 0, y: 0, color: .white, scale: 1)
        let lit = (0..<84).filter { text.pixels[$0 * 3] == 255 }.map { ($0 % 12, $0 / 12) }
        #expect(lit.count == 10)                       // the glyph "1" has 10 pixels
        #expect(lit.contains { $0 == (2, 0) } && lit.contains { $0 == (1, 6) } && lit.contains { $0 == (3, 6) })
        var label = RGBImage(width: 80, height: 20)
        label.drawText("male 34ß?", x: 2, y: 2, color: .yellow, background: .black, scale: 1)
        #expect(label.pixels.contains(250))
        #expect(BitmapFont.textSize("ab\ncde", scale: 2) == (34, 32))
    }
}

@Suite("face chips")
struct FaceChipTests {
    static func template(size: Int, padding: Double) -> [Point2] {
        FaceChip.template.map { Point2(x: (padding + $0.0) / (2 * padding + 1) * Double(size),
                                       y: (padding + $0.1) / (2 * padding + 1) * Double(size)) }
    }

    @Test("landmarks on the template give an unrotated, unscaled chip (dlib's half-pixel offset included)")
    func identityDetails() throws {
        let d = try FaceChip.details(landmarks: Self.template(size: 64, padding: 0.2), size: 64, padding: 0.2)
        #expect(abs(d.angle) < 1e-12)
        #expect(abs(d.left - 0.5) < 1e-9 && abs(d.right - 63.5) < 1e-9 && abs(d.top - 0.5) < 1e-9)
        let p = d.transform.apply(Point2(x: 10, y: 20))
        #expect(abs(p.x - 10.5) < 1e-9 && abs(p.y - 20.5) < 1e-9)
    }

    @Test("a face rotated and scaled in the image yields that rotation and scale")
    func rotatedDetails() throws {
        let theta = 0.4, scale = 2.5, t = Point2(x: 300, y: -20)
        let landmarks = Self.template(size: 64, padding: 0.2).map {
            Point2(x: scale * (cos(theta) * $0.x - sin(theta) * $0.y) + t.x,
                   y: scale * (sin(theta) * $0.x + cos(theta) * $0.y) + t.y)
        }
        let d = try FaceChip.details(landmarks: landmarks, size: 64, padding: 0.2)
        #expect(abs(d.angle - theta) < 1e-9)
        #expect(abs((d.right - d.left + 1) - 64 * scale) < 1e-9)
        // dlib's chip geometry: the chip's centre pixel lands on the similarity image of
        // (size/2, size/2), and one chip pixel spans (size·scale − 1)/(size − 1) image pixels.
        func sim(_ x: Double, _ y: Double) -> Point2 {
            Point2(x: scale * (cos(theta) * x - sin(theta) * y) + t.x, y: scale * (sin(theta) * x + cos(theta) * y) + t.y)
        }
        let c = d.transform.apply(Point2(x: 31.5, y: 31.5)), want = sim(32, 32)
        #expect(abs(c.x - want.x) < 1e-9 && abs(c.y - want.y) < 1e-9)
        let step = (64 * scale - 1) / 63
        let m = d.transform
        #expect(abs(m.a - step * cos(theta)) < 1e-12 && abs(m.c - step * sin(theta)) < 1e-12)
        #expect(abs(m.b + step * sin(theta)) < 1e-12 && abs(m.d - step * cos(theta)) < 1e-12)
    }

    @Test("bad landmarks and sizes are invalid arguments")
    func invalid() {
        let good = Self.template(size: 64, padding: 0.2)
        #expect(throws: ImageError.self) { try FaceChip.details(landmarks: Array(good.prefix(4)), size: 64, padding: 0.2) }
        #expect(throws: ImageError.self) { try FaceChip.details(landmarks: good, size: 0, padding: 0.2) }
        #expect(throws: ImageError.self) { try FaceChip.details(landmarks: good, size: 64, padding: -1) }
        var nan = good; nan[2].x = .nan
        #expect(throws: ImageError.self) { try FaceChip.details(landmarks: nan, size: 64, padding: 0.2) }
        var far = good; far[0].y = 1e300
        #expect(throws: ImageError.self) { try FaceChip.details(landmarks: far, size: 64, padding: 0.2) }
        // Degenerate (all landmarks equal) is valid input: a black or flat chip, no trap.
        let same = [Point2](repeating: Point2(x: 5, y: 5), count: 5)
        let chip = try? FaceChip.extract(noiseImage(20, 20), landmarks: same, size: 32, padding: 0.2)
        #expect(chip?.width == 32)
    }

    static let templateLandmarks = template(size: 40, padding: 0.2).map { Point2(x: $0.x + 3, y: $0.y + 2) }

    @Test("chips far outside the image are black; tiny images do not trap")
    func outside() throws {
        let img = noiseImage(9, 7)
        let d = ChipDetails(left: 1000, top: 1000, right: 1200, bottom: 1200, angle: 0.3, rows: 16, cols: 16)
        #expect(FaceChip.extract(img, details: d) == RGBImage(width: 16, height: 16))
        let big = ChipDetails(left: -50, top: -50, right: 60, bottom: 60, angle: 1, rows: 8, cols: 8)
        #expect(FaceChip.extract(img, details: big).width == 8)
        // Non-finite or absurd details: black, and no endless pyramid loop.
        for v in [Double.infinity, -.infinity, .nan, 1e300] {
            let bad = ChipDetails(left: 0, top: 0, right: v, bottom: 10, angle: 0.1, rows: 4, cols: 4)
            #expect(FaceChip.extract(img, details: bad) == RGBImage(width: 4, height: 4))
        }
        // Chips under 4 pixels or empty: no endless pyramid loop.
        for (rows, cols) in [(1, 1), (1, 3), (0, 5), (2, 0)] {
            let tiny = ChipDetails(left: 0, top: 0, right: 8, bottom: 6, angle: 0.2, rows: rows, cols: cols)
            let out = FaceChip.extract(img, details: tiny)
            #expect(out.width == cols && out.height == rows)
        }
        let one = try FaceChip.extract(noiseImage(50, 50), landmarks: Self.templateLandmarks, size: 1, padding: 0.2)
        #expect(one.width == 1 && one.height == 1)
        let badAngle = ChipDetails(left: 0, top: 0, right: 5, bottom: 5, angle: .nan, rows: 4, cols: 4)
        #expect(FaceChip.extract(img, details: badAngle) == RGBImage(width: 4, height: 4))
    }

    @Test("toTensor is planar NCHW (byte - mean) * scale")
    func tensor() {
        let chip = noiseImage(7, 5)  // 35 pixels: exercises the 16-wide loop and the tail
        let mean: [Float] = [122.781998, 117.000999, 104.297997]
        let t = FaceChip.toTensor(chip, mean: mean, scale: 0.00390625)
        #expect(t.count == 105)
        for i in 0..<35 { for c in 0..<3 {
            #expect(t[c * 35 + i] == (Float(chip.pixels[3 * i + c]) - mean[c]) * 0.00390625)
        } }
    }
}
