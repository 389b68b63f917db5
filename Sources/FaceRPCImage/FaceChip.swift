#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a face chip lies in the source image, in dlib's `chip_details` terms.
///
/// The rectangle uses dlib's `drectangle` convention: `left...right` and
/// `top...bottom` are the centres of the first and last pixels covered, so the
/// width is `right − left + 1`. `angle` (radians) rotates the rectangle about its
/// centre; the chip is `rows × cols` pixels.
public struct ChipDetails: Sendable, Equatable {
    public var left: Double, top: Double, right: Double, bottom: Double
    public var angle: Double
    public var rows: Int, cols: Int

    public init(left: Double, top: Double, right: Double, bottom: Double, angle: Double, rows: Int, cols: Int) {
        self.left = left; self.top = top; self.right = right; self.bottom = bottom
        self.angle = angle; self.rows = rows; self.cols = cols
    }

    /// Maps chip pixel (x, y) to source-image coordinates at full resolution:
    /// chip corners (0, 0), (cols − 1, 0), (0, rows − 1) go to the rotated
    /// rectangle's top-left, top-right and bottom-left corners.
    public var transform: AffineTransform {
        DRect(l: left, t: top, r: right, b: bottom).chipTransform(angle: angle, rows: rows, cols: cols)
    }
}

/// Aligned face chips, pixel-compatible with dlib's `get_face_chip_details` +
/// `extract_image_chip` (what the age and gender networks were trained on).
public enum FaceChip {
    /// dlib's 5-point mean face (`get_face_chip_details`), in the 5-point
    /// predictor's order — outer and inner corner of the eye on the image's
    /// right, outer and inner corner of the eye on the image's left, base of the
    /// nose — in units of the unpadded chip side.
    static let template: [(Double, Double)] = [
        (0.8595674595992, 0.2134981538014),
        (0.6460604764104, 0.2289674387677),
        (0.1205750620789, 0.2137274526848),
        (0.3340850613712, 0.2290642403242),
        (0.4901123135679, 0.6277975316475),
    ]

    /// Largest chip side accepted.
    public static let maxSize = 4096

    /// The chip that maps dlib's 5-point mean face (padded by `padding` chip
    /// widths on every side) onto `landmarks` by the least-squares similarity
    /// transform — dlib's `get_face_chip_details(det, size, padding)` for a
    /// 5-point `shape_predictor` result.
    /// - Parameters:
    ///   - landmarks: 5 points in dlib's 5-point order (see ``template``), source pixels.
    ///   - size: chip side in pixels, 1...``maxSize``.
    ///   - padding: >= 0 (the age/gender models use 0.2).
    /// - Throws: ``ImageError/invalidArgument(_:)`` for a wrong point count,
    ///   non-finite or absurd (> 2^24) coordinates, or a bad size/padding.
    public static func details(landmarks: [Point2], size: Int, padding: Double) throws(ImageError) -> ChipDetails {
        guard landmarks.count == 5 else { throw .invalidArgument("face chips need 5 landmarks, got \(landmarks.count)") }
        guard (1...maxSize).contains(size) else { throw .invalidArgument("chip size must be 1...\(maxSize), got \(size)") }
        guard padding.isFinite, padding >= 0, padding <= 100 else { throw .invalidArgument("chip padding must be 0...100, got \(padding)") }
        let bound = Double(1 << 24)
        for p in landmarks where !(abs(p.x) <= bound && abs(p.y) <= bound) {
            throw .invalidArgument("landmark (\(p.x), \(p.y)) is not a finite image coordinate")
        }
        let s = Double(size)
        let from = template.map { t in
            Point2(x: (padding + t.0) / (2 * padding + 1) * s, y: (padding + t.1) / (2 * padding + 1) * s)
        }
        // Least-squares similarity (Umeyama); in 2-D it has this closed form,
        // which equals dlib's SVD route (rotation + uniform scale, no reflection).
        let n = Double(from.count)
        var mf = Point2(x: 0, y: 0), mt = Point2(x: 0, y: 0)
        for i in 0..<from.count {
            mf.x += from[i].x; mf.y += from[i].y
            mt.x += landmarks[i].x; mt.y += landmarks[i].y
        }
        mf.x /= n; mf.y /= n; mt.x /= n; mt.y /= n
        var sigma = 0.0, dot = 0.0, cross = 0.0
        for i in 0..<from.count {
            let px = from[i].x - mf.x, py = from[i].y - mf.y
            let qx = landmarks[i].x - mt.x, qy = landmarks[i].y - mt.y
            sigma += px * px + py * py
            dot += qx * px + qy * py
            cross += qy * px - qx * py
        }
        let a = dot / sigma, b = cross / sigma  // c·R = [a −b; b a]
        let tx = mt.x - (a * mf.x - b * mf.y)
        let ty = mt.y - (b * mf.x + a * mf.y)
        let angle = atan2(b, a)
        let scale = (a * a + b * b).squareRoot()
        let cx = (a * (s / 2) - b * (s / 2)) + tx
        let cy = (b * (s / 2) + a * (s / 2)) + ty
        // dlib's centered_drect(p, w, h): the pixel-centre extent is w − 1.
        let half = (s * scale - 1) / 2
        return ChipDetails(left: cx - half, top: cy - half, right: cx + half, bottom: cy + half,
                           angle: angle, rows: size, cols: size)
    }

    /// Extracts the chip like dlib's `extract_image_chip(img, details)` with its
    /// default bilinear interpolation. When the chip is much smaller than its
    /// source rectangle, dlib first builds a `pyramid_down<2>` pyramid of the
    /// region around the chip and samples the level just above the chip's
    /// resolution; this does the same, with the same integer filter, so the
    /// output matches dlib's pixel for pixel (up to floating-point ties).
    /// Pixels whose source falls outside the image are black.
    ///
    /// Details with non-finite or absurd (beyond ±2^30) coordinates give a black
    /// chip; rows or columns outside 0...``maxSize`` give an empty image.
    public static func extract(_ image: RGBImage, details: ChipDetails) -> RGBImage {
        image.requireConsistent("FaceChip.extract")
        guard (0...maxSize).contains(details.rows) && (0...maxSize).contains(details.cols) else {
            return RGBImage(width: 0, height: 0)
        }
        let rows = details.rows, cols = details.cols
        let bound = Double(1 << 30)
        for v in [details.left, details.top, details.right, details.bottom] where !(abs(v) <= bound) {
            return RGBImage(width: cols, height: rows)
        }
        guard details.angle.isFinite, rows > 0, cols > 0 else { return RGBImage(width: cols, height: rows) }
        let rect = DRect(l: details.left, t: details.top, r: details.right, b: details.bottom)
        let area = Double(rows * cols)
        // Unrotated, unscaled: a plain copy (dlib's basic_extract_image_chip).
        if details.angle == 0 && Double(rows) == rect.height && Double(cols) == rect.width {
            let x0 = Int(rect.l.rounded()), y0 = Int(rect.t.rounded())
            return ImageOps.warpCopy(image, x0: x0, y0: y0, width: cols, height: rows)
        }
        // Pyramid depth, and the border each level needs (dlib's "grow"). A level's
        // area tends to 1 but never below, so chips under 4 pixels would loop (for
        // ~1000 rounds, in dlib too); past maxLevels every level is empty anyway.
        let maxLevels = 40
        var depth = 0
        var grow = 2.0
        var r = rect.down()
        while r.area > area && depth < maxLevels {
            r = r.down()
            depth += 1
            grow = grow * 2 + 2
        }
        let centre = rect.centre
        var rotated = DRect.empty
        for corner in [rect.tl, rect.tr, rect.bl, rect.br] {
            rotated = rotated.union(point: rotate(corner, about: centre, by: details.angle))
        }
        let clipped = rotated.grown(by: grow)
            .intersect(DRect(l: 0, t: 0, r: Double(image.width - 1), b: Double(image.height - 1)))
        // drectangle -> rectangle converts with lround; an empty result stays the empty rectangle.
        var bx0 = Int(clipped.l.rounded()), by0 = Int(clipped.t.rounded())
        var bx1 = Int(clipped.r.rounded()), by1 = Int(clipped.b.rounded())
        if bx0 > bx1 || by0 > by1 { bx0 = 0; by0 = 0; bx1 = -1; by1 = -1 }
        var level = ImageOps.warpCopy(image, x0: bx0, y0: by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1)

        // The level to sample: the smallest whose rectangle still exceeds the chip.
        var target = rect.translated(dx: -Double(bx0), dy: -Double(by0))
        var levelIndex = -1
        while target.down().area > area && levelIndex + 1 < depth {
            levelIndex += 1
            target = target.down()
        }
        if levelIndex >= 0 {
            for _ in 0...levelIndex { level = pyramidDown(level) }
        }
        let m = target.chipTransform(angle: details.angle, rows: rows, cols: cols)
        return ImageOps.warpAffine(level, transform: m, width: cols, height: rows)
    }

    /// ``details(landmarks:size:padding:)`` then ``extract(_:details:)``.
    public static func extract(_ image: RGBImage, landmarks: [Point2], size: Int, padding: Double) throws(ImageError) -> RGBImage {
        extract(image, details: try details(landmarks: landmarks, size: size, padding: padding))
    }

    /// dlib's `pyramid_down<2>` for RGB: a separable [1 4 6 4 1]² filter with
    /// integer sums, decimated by 2 and divided by 256 with truncation. The
    /// output is `(w − 3) / 2 × (h − 3) / 2`; images with a side ≤ 8 give an
    /// empty image, as in dlib.
    static func pyramidDown(_ img: RGBImage) -> RGBImage {
        let w = img.width, h = img.height
        guard w > 8, h > 8 else { return RGBImage(width: 0, height: 0) }
        let ow = (w - 3) / 2, oh = (h - 3) / 2
        let tw = ow * 3
        var temp = [UInt16](repeating: 0, count: h * tw)
        var out = [UInt8](repeating: 0, count: ow * oh * 3)
        img.pixels.withUnsafeBufferPointer { src in
            temp.withUnsafeMutableBufferPointer { t in
                for y in 0..<h {
                    let s = y * w * 3, d = y * tw
                    for c in 0..<ow {
                        // Output column c is centred on source column 2c + 2.
                        let p = s + 6 * c, q = d + 3 * c
                        for ch in 0..<3 {
                            t[q + ch] = UInt16(src[p + ch]) + 4 * UInt16(src[p + 3 + ch]) + 6 * UInt16(src[p + 6 + ch])
                                + 4 * UInt16(src[p + 9 + ch]) + UInt16(src[p + 12 + ch])
                        }
                    }
                }
                out.withUnsafeMutableBufferPointer { o in
                    for dy in 0..<oh {
                        let r = 2 + 2 * dy
                        let a = (r - 2) * tw, b = (r - 1) * tw, c = r * tw, d = (r + 1) * tw, e = (r + 2) * tw
                        for i in 0..<tw {
                            // Max 16·16·255 = 65280: fits UInt32 trivially (dlib uses uint16).
                            let v = UInt32(t[a + i]) + 4 * UInt32(t[b + i]) + 6 * UInt32(t[c + i])
                                + 4 * UInt32(t[d + i]) + UInt32(t[e + i])
                            o[dy * tw + i] = UInt8(truncatingIfNeeded: v >> 8)
                        }
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }

    /// The chip mirrored left to right (column `x` becomes `width − 1 − x`):
    /// the second view of a face for mirror averaging.
    public static func mirrored(_ chip: RGBImage) -> RGBImage {
        chip.requireConsistent("mirrored")
        let w = chip.width
        var out = [UInt8](repeating: 0, count: chip.pixels.count)
        chip.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<chip.height {
                    let row = 3 * w * y
                    for x in 0..<w {
                        let s = row + 3 * x, d = row + 3 * (w - 1 - x)
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: w, height: chip.height, pixels: out)
    }

    /// Model input: planar float NCHW (N = 1) with `(byte − mean[c]) · scale`.
    /// - Precondition: `mean.count == 3` (checked even in unchecked builds).
    public static func toTensor(_ chip: RGBImage, mean: [Float], scale: Float) -> [Float] {
        var out = [Float](repeating: 0, count: chip.width * chip.height * 3)
        out.withUnsafeMutableBufferPointer { toTensor(chip, mean: mean, scale: scale, into: $0) }
        return out
    }

    /// Writes the tensor of ``toTensor(_:mean:scale:)`` into `into` (for
    /// assembling a batch in place). `into.count` must be `3 · width · height`.
    public static func toTensor(_ chip: RGBImage, mean: [Float], scale: Float, into: UnsafeMutableBufferPointer<Float>) {
        // fatalError, not precondition: this module builds with -Ounchecked, where
        // preconditions vanish and these would become out-of-bounds accesses.
        chip.requireConsistent("toTensor")
        guard mean.count == 3 else { fatalError("toTensor: mean needs 3 values, got \(mean.count)") }
        let plane = chip.width * chip.height
        guard into.count == 3 * plane else { fatalError("toTensor: destination holds \(into.count) floats, needs \(3 * plane)") }
        guard plane > 0, let dst = into.baseAddress else { return }
        let mr = SIMD16<Float>(repeating: mean[0]), mg = SIMD16<Float>(repeating: mean[1])
        let mb = SIMD16<Float>(repeating: mean[2])
        let sc = SIMD16<Float>(repeating: scale)
        chip.pixels.withUnsafeBufferPointer { src in
            var i = 0
            // 16 pixels per step: deinterleave, widen, subtract, scale.
            while i + 16 <= plane {
                var r = SIMD16<Float>(), g = SIMD16<Float>(), b = SIMD16<Float>()
                for k in 0..<16 {
                    r[k] = Float(src[3 * (i + k)])
                    g[k] = Float(src[3 * (i + k) + 1])
                    b[k] = Float(src[3 * (i + k) + 2])
                }
                UnsafeMutableRawPointer(dst + i).storeBytes(of: (r - mr) * sc, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(dst + plane + i).storeBytes(of: (g - mg) * sc, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(dst + 2 * plane + i).storeBytes(of: (b - mb) * sc, as: SIMD16<Float>.self)
                i += 16
            }
            while i < plane {
                dst[i] = (Float(src[3 * i]) - mean[0]) * scale
                dst[plane + i] = (Float(src[3 * i + 1]) - mean[1]) * scale
                dst[2 * plane + i] = (Float(src[3 * i + 2]) - mean[2]) * scale
                i += 1
            }
        }
    }
}

private func rotate(_ p: Point2, about c: Point2, by angle: Double) -> Point2 {
    let s = sin(angle), co = cos(angle)
    let x = p.x - c.x, y = p.y - c.y
    return Point2(x: (co * x - s * y) + c.x, y: (s * x + co * y) + c.y)
}

/// dlib's `drectangle`, with the operations chip extraction relies on.
struct DRect {
    var l: Double, t: Double, r: Double, b: Double
    static let empty = DRect(l: 0, t: 0, r: -1, b: -1)
    var isEmpty: Bool { t > b || l > r }
    var width: Double { isEmpty ? 0 : r - l + 1 }
    var height: Double { isEmpty ? 0 : b - t + 1 }
    var area: Double { width * height }
    var centre: Point2 { Point2(x: (l + r) / 2, y: (t + b) / 2) }
    var tl: Point2 { Point2(x: l, y: t) }
    var tr: Point2 { Point2(x: r, y: t) }
    var bl: Point2 { Point2(x: l, y: b) }
    var br: Point2 { Point2(x: r, y: b) }

    func union(point p: Point2) -> DRect {
        if isEmpty { return DRect(l: p.x, t: p.y, r: p.x, b: p.y) }
        return DRect(l: min(l, p.x), t: min(t, p.y), r: max(r, p.x), b: max(b, p.y))
    }
    func intersect(_ o: DRect) -> DRect {
        DRect(l: max(l, o.l), t: max(t, o.t), r: min(r, o.r), b: min(b, o.b))
    }
    func grown(by g: Double) -> DRect { DRect(l: l - g, t: t - g, r: r + g, b: b + g) }
    func translated(dx: Double, dy: Double) -> DRect { DRect(l: l + dx, t: t + dy, r: r + dx, b: b + dy) }
    /// pyramid_down<2>::rect_down: p/2 − (1.25, 0.75) at both corners, normalised.
    func down() -> DRect {
        let x0 = l / 2 - 1.25, y0 = t / 2 - 0.75, x1 = r / 2 - 1.25, y1 = b / 2 - 0.75
        return DRect(l: min(x0, x1), t: min(y0, y1), r: max(x0, x1), b: max(y0, y1))
    }
    /// The affine map from chip pixels to this rectangle rotated by `angle`
    /// (dlib solves it by least squares from three corners; with exactly three
    /// correspondences that is this direct solution).
    func chipTransform(angle: Double, rows: Int, cols: Int) -> AffineTransform {
        let c = centre
        let p0 = rotate(tl, about: c, by: angle)
        let p1 = rotate(tr, about: c, by: angle)
        let p2 = rotate(bl, about: c, by: angle)
        let sx = cols > 1 ? Double(cols - 1) : 1, sy = rows > 1 ? Double(rows - 1) : 1
        return AffineTransform(
            a: cols > 1 ? (p1.x - p0.x) / sx : 0, b: rows > 1 ? (p2.x - p0.x) / sy : 0,
            c: cols > 1 ? (p1.y - p0.y) / sx : 0, d: rows > 1 ? (p2.y - p0.y) / sy : 0,
            tx: p0.x, ty: p0.y)
    }
}

extension ImageOps {
    /// Copies the `width × height` window at (x0, y0) of `image`; pixels outside
    /// the image are black.
    static func warpCopy(_ image: RGBImage, x0: Int, y0: Int, width: Int, height: Int) -> RGBImage {
        guard width > 0, height > 0 else { return RGBImage(width: 0, height: 0) }
        var out = RGBImage(width: width, height: height)
        let xs = max(x0, 0), xe = min(x0 + width, image.width)
        guard xs < xe else { return out }
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in max(y0, 0)..<max(max(y0, 0), min(y0 + height, image.height)) {
                    let s = (y * image.width + xs) * 3
                    let d = ((y - y0) * width + (xs - x0)) * 3
                    UnsafeMutableRawPointer(dst.baseAddress! + d)
                        .copyMemory(from: src.baseAddress! + s, byteCount: (xe - xs) * 3)
                }
            }
        }
        return out
    }
}
