/// Per-request pixel operations: affine warps, resizing, grayscale.
///
/// Conventions: pixel (x, y) is the sample at integer coordinates (x, y); the
/// centre of the top-left pixel is (0, 0), as in dlib and OpenCV.
public enum ImageOps {
    /// Samples `image` through `transform` (output pixel → source pixel) with
    /// bilinear interpolation, exactly as dlib's `transform_image` with
    /// `interpolate_bilinear` does for `rgb_pixel`:
    /// - an output pixel whose 2×2 source neighbourhood is not entirely inside
    ///   the image is black (0, 0, 0) — no partial blending at the border;
    /// - the blend is computed in double precision and truncated toward zero.
    /// - Precondition: `width >= 0`, `height >= 0`.
    public static func warpAffine(_ image: RGBImage, transform: AffineTransform, width: Int, height: Int) -> RGBImage {
        image.requireConsistent("warpAffine")
        guard width > 0, height > 0 else { return RGBImage(width: max(width, 0), height: max(height, 0)) }
        var out = RGBImage(width: width, height: height)
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                bilinearSample(
                    src: src, srcWidth: image.width, srcHeight: image.height,
                    m: transform, dst: dst, dstWidth: width, dstHeight: height)
            }
        }
        return out
    }

    /// The dlib-exact bilinear sampler behind ``warpAffine(_:transform:width:height:)``
    /// and the face chips. `dst` must hold `3 * dstWidth * dstHeight` bytes and is
    /// fully written.
    static func bilinearSample(
        src: UnsafeBufferPointer<UInt8>, srcWidth: Int, srcHeight: Int,
        m: AffineTransform, dst: UnsafeMutableBufferPointer<UInt8>, dstWidth: Int, dstHeight: Int
    ) {
        let maxX = Double(srcWidth - 1), maxY = Double(srcHeight - 1)
        let row = 3 * srcWidth
        var o = 0
        for r in 0..<dstHeight {
            let dr = Double(r)
            for c in 0..<dstWidth {
                let dc = Double(c)
                // Same operation order as dlib's point_transform_affine: m*p + b.
                let px = (m.a * dc + m.b * dr) + m.tx
                let py = (m.c * dc + m.d * dr) + m.ty
                // floor(px) >= 0 && floor(px) + 1 < w  <=>  0 <= px < w - 1; NaN fails too.
                guard px >= 0, py >= 0, px < maxX, py < maxY else {
                    dst[o] = 0; dst[o + 1] = 0; dst[o + 2] = 0
                    o += 3
                    continue
                }
                let left = Int(px), top = Int(py)  // floor: both are non-negative
                let lr = px - Double(left), tb = py - Double(top)
                let i00 = top * row + 3 * left
                let i10 = i00 + row
                for ch in 0..<3 {
                    let tl = Double(src[i00 + ch]), tr = Double(src[i00 + 3 + ch])
                    let bl = Double(src[i10 + ch]), br = Double(src[i10 + 3 + ch])
                    let v = (1 - tb) * ((1 - lr) * tl + lr * tr) + tb * ((1 - lr) * bl + lr * br)
                    dst[o + ch] = UInt8(v)  // truncation, like dlib's static_cast<unsigned char>
                }
                o += 3
            }
        }
    }

    /// dlib's RGB → gray conversion (`assign_pixel(unsigned char&, rgb_pixel)`):
    /// the truncated mean `(R + G + B) / 3`. dlib's shape predictor reads
    /// intensities this way.
    public static func grayscale(_ image: RGBImage) -> GrayImage {
        image.requireConsistent("grayscale")
        let n = image.width * image.height
        let pixels = [UInt8](unsafeUninitializedCapacity: n) { out, initialized in
            image.pixels.withUnsafeBufferPointer { src in
                for i in 0..<n {
                    let s = UInt16(src[3 * i]) + UInt16(src[3 * i + 1]) + UInt16(src[3 * i + 2])
                    out[i] = UInt8(truncatingIfNeeded: s / 3)
                }
            }
            initialized = n
        }
        return GrayImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// Bilinear resize with half-pixel centres (OpenCV `INTER_LINEAR` geometry:
    /// source x = (x + 0.5)·sw/dw − 0.5, clamped to the edge), rounded to bytes.
    /// Meant for detector pyramids at moderate scale factors (≥ 0.5 per step
    /// avoids aliasing).
    /// An empty `image` gives a black image; a non-positive size an empty one.
    public static func resizeBilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        image.requireConsistent("resizeBilinear")
        guard width > 0, height > 0 else { return RGBImage(width: max(width, 0), height: max(height, 0)) }
        guard image.width > 0, image.height > 0 else { return RGBImage(width: width, height: height) }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        out.withUnsafeMutableBufferPointer { dst in
            resizeRows(image, width: width, height: height) { y, r0, r1, fy in
                let base = y * width * 3
                for i in 0..<(width * 3) {
                    let v = r0[i] + fy * (r1[i] - r0[i])
                    dst[base + i] = UInt8(v + 0.5)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Bilinear resize (as ``resizeBilinear(_:width:height:)``) straight into
    /// planar float CHW: `out[c][y][x] = (value − mean[c]) · scale`, without
    /// rounding the interpolated value to a byte first.
    /// An empty `image` gives zeros; a non-positive size an empty array.
    /// - Precondition: `mean.count == 3` (checked even in unchecked builds).
    public static func resizeBilinearPlanar(
        _ image: RGBImage, width: Int, height: Int, mean: [Float], scale: Float
    ) -> [Float] {
        image.requireConsistent("resizeBilinearPlanar")
        guard mean.count == 3 else { fatalError("resizeBilinearPlanar: mean needs 3 values, got \(mean.count)") }
        guard width > 0, height > 0 else { return [] }
        let plane = width * height
        guard image.width > 0, image.height > 0 else { return [Float](repeating: 0, count: plane * 3) }
        var out = [Float](repeating: 0, count: plane * 3)
        let m0 = mean[0], m1 = mean[1], m2 = mean[2]
        out.withUnsafeMutableBufferPointer { dst in
            resizeRows(image, width: width, height: height) { y, r0, r1, fy in
                let base = y * width
                for x in 0..<width {
                    let i = 3 * x
                    dst[base + x] = (r0[i] + fy * (r1[i] - r0[i]) - m0) * scale
                    dst[plane + base + x] = (r0[i + 1] + fy * (r1[i + 1] - r0[i + 1]) - m1) * scale
                    dst[2 * plane + base + x] = (r0[i + 2] + fy * (r1[i + 2] - r0[i + 2]) - m2) * scale
                }
            }
        }
        return out
    }

    /// Drives a separable bilinear resize: horizontally interpolated source rows
    /// (float, interleaved RGB, `width` pixels) are cached and handed to `emit`
    /// in pairs with the vertical weight of the second.
    private static func resizeRows(
        _ image: RGBImage, width: Int, height: Int,
        emit: (_ y: Int, _ r0: UnsafeBufferPointer<Float>, _ r1: UnsafeBufferPointer<Float>, _ fy: Float) -> Void
    ) {
        let sw = image.width, sh = image.height
        let sx = Double(sw) / Double(width), sy = Double(sh) / Double(height)
        // Horizontal taps, computed once per call.
        var x0 = [Int](repeating: 0, count: width), x1 = x0
        var fx = [Float](repeating: 0, count: width)
        for x in 0..<width {
            let s = max(0, (Double(x) + 0.5) * sx - 0.5)
            let i = min(Int(s), sw - 1)
            x0[x] = 3 * i
            x1[x] = 3 * min(i + 1, sw - 1)
            fx[x] = Float(s - Double(i))
        }
        var rowA = [Float](repeating: 0, count: width * 3), rowB = rowA
        var aIndex = -1, bIndex = -1
        image.pixels.withUnsafeBufferPointer { src in
            func fill(_ row: inout [Float], _ sy: Int) {
                let base = sy * sw * 3
                row.withUnsafeMutableBufferPointer { r in
                    for x in 0..<width {
                        let a = base + x0[x], b = base + x1[x], f = fx[x]
                        for c in 0..<3 {
                            let p = Float(src[a + c])
                            r[3 * x + c] = p + f * (Float(src[b + c]) - p)
                        }
                    }
                }
            }
            for y in 0..<height {
                let s = max(0, (Double(y) + 0.5) * sy - 0.5)
                let i0 = min(Int(s), sh - 1), i1 = min(i0 + 1, sh - 1)
                let fy = Float(s - Double(i0))
                // Reuse rows from the previous output row where possible.
                if aIndex != i0 {
                    if bIndex == i0 { swap(&rowA, &rowB); swap(&aIndex, &bIndex) } else { fill(&rowA, i0); aIndex = i0 }
                }
                if bIndex != i1 { fill(&rowB, i1); bIndex = i1 }
                rowA.withUnsafeBufferPointer { a in rowB.withUnsafeBufferPointer { b in emit(y, a, b, fy) } }
            }
        }
    }
}
