import FaceRPCImage

/// Detector-internal image operations on a normalised, planar float image.
///
/// They reproduce the two TensorFlow image ops the mtcnn package relies on
/// (`tf.image.resize(method: AREA)` for the pyramid and
/// `tf.image.crop_and_resize` for the R-/O-net patches) closely enough that
/// the detector finds the package's boxes. They are not general-purpose
/// resamplers (FaceRPCImage has those).
struct PlanarImage: Sendable {
    let width: Int
    let height: Int
    /// `[3][height][width]`.
    var values: [Float]

    /// `(byte - mean) * scale` per channel, RGB order, interleaved to planar.
    init(_ image: RGBImage, mean: Float, scale: Float) {
        width = image.width
        height = image.height
        let plane = width * height
        var values = [Float](repeating: 0, count: 3 * plane)
        image.pixels.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                for i in 0..<plane {
                    d[i] = (Float(s[3 * i]) - mean) * scale
                    d[plane + i] = (Float(s[3 * i + 1]) - mean) * scale
                    d[2 * plane + i] = (Float(s[3 * i + 2]) - mean) * scale
                }
            }
        }
        self.values = values
    }

    init(width: Int, height: Int, values: [Float]) {
        self.width = width; self.height = height; self.values = values
    }
}

/// Area-averaging weights along one axis, as TensorFlow's ResizeArea computes
/// them (`scale = in / out` in float; output pixel `o` covers input
/// `[o * scale, (o + 1) * scale)`; indices past the edge clamp to it).
struct AreaWeights {
    /// First input index of each output pixel's span.
    var start: [Int32] = []
    /// Number of input pixels in each span.
    var count: [Int32] = []
    /// Offset of each span's weights in `weights`.
    var offset: [Int32] = []
    /// Overlap of each input pixel with the span, divided by `scale`.
    var weights: [Float] = []

    init(inSize: Int, outSize: Int) {
        let scale = Float(inSize) / Float(outSize)
        for o in 0..<outSize {
            let a = Float(o) * scale, b = Float(o + 1) * scale
            let first = Int(a.rounded(.down)), end = Int(b.rounded(.up))
            let clampedFirst = min(max(first, 0), inSize - 1)
            var local = [Float](repeating: 0, count: 0)
            var base = clampedFirst
            for i in first..<end {
                let w = (min(Float(i + 1), b) - max(Float(i), a)) / scale
                let idx = min(max(i, 0), inSize - 1)
                // Clamped indices repeat the edge pixel: fold their weight into it.
                if idx - base < local.count {
                    local[idx - base] += w
                } else {
                    if local.isEmpty { base = idx }
                    local.append(w)
                }
            }
            start.append(Int32(base))
            count.append(Int32(local.count))
            offset.append(Int32(weights.count))
            weights.append(contentsOf: local)
        }
    }
}

enum DetectorResize {
    /// Area-resizes a planar image to `outWidth x outHeight` (both >= 1),
    /// rows first (contiguous, vectorises), then columns on the fewer rows.
    static func area(_ image: PlanarImage, outWidth: Int, outHeight: Int) -> PlanarImage {
        PlanarImage(width: outWidth, height: outHeight,
                    values: area(image, outWidth: outWidth, outHeight: outHeight, rowStride: outWidth))
    }

    /// As ``area(_:outWidth:outHeight:)``, stored `[3][outHeight][rowStride]`
    /// (`rowStride >= outWidth`) with zeros in each row's padding: the layout
    /// ``PNetRunner`` reads.
    static func area(_ image: PlanarImage, outWidth: Int, outHeight: Int, rowStride: Int) -> [Float] {
        precondition(rowStride >= outWidth)
        let w = image.width, h = image.height
        let wy = AreaWeights(inSize: h, outSize: outHeight)
        let wx = AreaWeights(inSize: w, outSize: outWidth)
        var rows = [Float](repeating: 0, count: 3 * outHeight * w)
        image.values.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for oy in 0..<outHeight {
                        let out = dst.baseAddress! + (c * outHeight + oy) * w
                        let first = Int(wy.start[oy]), n = Int(wy.count[oy]), off = Int(wy.offset[oy])
                        for k in 0..<n {
                            let weight = wy.weights[off + k]
                            let row = src.baseAddress! + (c * h + first + k) * w
                            for x in 0..<w { out[x] += weight * row[x] }
                        }
                    }
                }
            }
        }
        var result = [Float](repeating: 0, count: 3 * outHeight * rowStride)
        rows.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                wx.weights.withUnsafeBufferPointer { weights in
                    for r in 0..<(3 * outHeight) {
                        let row = src.baseAddress! + r * w
                        let out = dst.baseAddress! + r * rowStride
                        for ox in 0..<outWidth {
                            let first = Int(wx.start[ox]), n = Int(wx.count[ox]), off = Int(wx.offset[ox])
                            var sum: Float = 0
                            for k in 0..<n { sum += weights[off + k] * row[first + k] }
                            out[ox] = sum
                        }
                    }
                }
            }
        }
        return result
    }

    /// Bilinear patches of `size x size` for each box, written NCHW into `batch`
    /// starting at `batch[0]` (`boxes.count * 3 * size * size` floats).
    ///
    /// As `tf.image.crop_and_resize` on boxes normalised by the image size:
    /// sample `i` lies at `y1 / H * (H - 1) + i * (y2 - y1) / H * (H - 1) / (size - 1)`
    /// (the package divides by H but TensorFlow multiplies by H - 1), and
    /// samples outside the image are 0 (mid-grey after normalisation).
    static func patches(_ image: PlanarImage, boxes: [CandidateBox], size: Int, into batch: inout [Float]) {
        let h = image.height, w = image.width, plane = h * w
        let hm1 = Float(h - 1), wm1 = Float(w - 1), steps = Float(size - 1)
        let patchPlane = size * size
        var ys = [Float](repeating: 0, count: size), xs = [Float](repeating: 0, count: size)
        image.values.withUnsafeBufferPointer { src in
            batch.withUnsafeMutableBufferPointer { dst in
                for (n, b) in boxes.enumerated() {
                    let y1 = Float(b.y1 / Double(h)), y2 = Float(b.y2 / Double(h))
                    let x1 = Float(b.x1 / Double(w)), x2 = Float(b.x2 / Double(w))
                    let hs = (y2 - y1) * hm1 / steps, ws = (x2 - x1) * wm1 / steps
                    for i in 0..<size {
                        ys[i] = y1 * hm1 + Float(i) * hs
                        xs[i] = x1 * wm1 + Float(i) * ws
                    }
                    let out = dst.baseAddress! + n * 3 * patchPlane
                    for i in 0..<size {
                        let iy = ys[i]
                        let inside = iy >= 0 && iy <= hm1
                        let top = inside ? Int(iy.rounded(.down)) : 0
                        let bottom = inside ? Int(iy.rounded(.up)) : 0
                        let ly = iy - iy.rounded(.down)
                        for j in 0..<size {
                            let ix = xs[j]
                            guard inside, ix >= 0, ix <= wm1 else {
                                for c in 0..<3 { out[c * patchPlane + i * size + j] = 0 }
                                continue
                            }
                            let left = Int(ix.rounded(.down)), right = Int(ix.rounded(.up))
                            let lx = ix - ix.rounded(.down)
                            for c in 0..<3 {
                                let p = src.baseAddress! + c * plane
                                let tl = p[top * w + left], tr = p[top * w + right]
                                let bl = p[bottom * w + left], br = p[bottom * w + right]
                                let t = tl + (tr - tl) * lx
                                let bo = bl + (br - bl) * lx
                                out[c * patchPlane + i * size + j] = t + (bo - t) * ly
                            }
                        }
                    }
                }
            }
        }
    }
}
