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

    /// Several area-resized levels of one image in a single sweep over its
    /// rows, each stored as ``area(_:outWidth:outHeight:rowStride:)`` stores it
    /// and bit-identical to it.
    ///
    /// Resizing level by level reads the whole image once per level (a 3-MP
    /// photo is 37 MB of floats, past the cache, and the pyramid has a dozen
    /// levels, most of them tiny). Here each source row is read once while it
    /// is in cache and added into the few open output rows of every level; an
    /// output row is resized horizontally as soon as its last source row is in.
    /// The additions happen in the same order as in the level-by-level
    /// resize, so the results are the same bits.
    ///
    /// - Parameters:
    ///   - sizes: each level's `width x height` (both >= 1).
    ///   - rowStride: the row stride to store a level of a given width with.
    static func areaPyramid(_ image: PlanarImage, sizes: [(width: Int, height: Int)],
                            rowStride: (Int) -> Int) -> [[Float]] {
        let w = image.width, h = image.height
        // Horizontal taps are read up to `maxTaps` past a span's start; the
        // accumulator rows carry that many zeros of slack.
        let slack = 8
        var levels = sizes.map { size in
            PyramidLevel(inWidth: w, inHeight: h, outWidth: size.width, outHeight: size.height,
                         rowStride: rowStride(size.width), slack: slack)
        }
        image.values.withUnsafeBufferPointer { src in
            for y in 0..<h {
                for i in levels.indices {
                    levels[i].add(sourceRow: y, from: src.baseAddress!, width: w, height: h)
                }
            }
        }
        return levels.map(\.output)
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

/// One level of ``DetectorResize/areaPyramid(_:sizes:rowStride:)``: its
/// weights, its open output rows (a ring of accumulator rows, 3 channels each)
/// and its output.
private struct PyramidLevel {
    let outWidth: Int
    let outHeight: Int
    let rowStride: Int
    let wy: AreaWeights
    let wx: AreaWeights
    /// Horizontal taps when every span has at most 4 (any downscale by less
    /// than 3): `[tap][outWidth]`, zero past a span's end, for a branch-free
    /// loop. Empty otherwise.
    let taps: [[Float]]
    /// Accumulator rows: `ring` slots of `[3][accumulatorWidth]`.
    var accumulators: [Float]
    let accumulatorWidth: Int
    let ring: Int
    /// First output row not yet finished.
    var nextRow = 0
    var output: [Float]

    init(inWidth: Int, inHeight: Int, outWidth: Int, outHeight: Int, rowStride: Int, slack: Int) {
        precondition(rowStride >= outWidth)
        self.outWidth = outWidth; self.outHeight = outHeight; self.rowStride = rowStride
        wy = AreaWeights(inSize: inHeight, outSize: outHeight)
        wx = AreaWeights(inSize: inWidth, outSize: outWidth)
        let maxTaps = Int(wx.count.max() ?? 0)
        if maxTaps <= 4 {
            var taps = [[Float]](repeating: [Float](repeating: 0, count: outWidth), count: 4)
            for o in 0..<outWidth {
                for k in 0..<Int(wx.count[o]) { taps[k][o] = wx.weights[Int(wx.offset[o]) + k] }
            }
            self.taps = taps
        } else {
            taps = []
        }
        // The most output rows open at once: those whose span starts before
        // an earlier open row's span ends.
        var ring = 1
        for o in 0..<outHeight {
            let end = Int(wy.start[o] + wy.count[o])
            var open = 1
            while o + open < outHeight && Int(wy.start[o + open]) < end { open += 1 }
            ring = max(ring, open)
        }
        self.ring = ring
        accumulatorWidth = inWidth + slack
        accumulators = [Float](repeating: 0, count: ring * 3 * accumulatorWidth)
        // Each row's first `outWidth` values are written when the row is
        // finished; only the padding after them is zeroed here.
        output = [Float](unsafeUninitializedCapacity: 3 * outHeight * rowStride) { out, initialized in
            if rowStride > outWidth {
                for r in 0..<(3 * outHeight) {
                    (out.baseAddress! + r * rowStride + outWidth).initialize(repeating: 0, count: rowStride - outWidth)
                }
            }
            initialized = 3 * outHeight * rowStride
        }
    }

    /// Adds source row `y` (all 3 channels) into every open output row that
    /// spans it, and finishes the rows whose span ends at `y`.
    mutating func add(sourceRow y: Int, from src: UnsafePointer<Float>, width w: Int, height h: Int) {
        var o = nextRow
        while o < outHeight, Int(wy.start[o]) <= y {
            let first = Int(wy.start[o]), n = Int(wy.count[o])
            if y < first + n {
                let weight = wy.weights[Int(wy.offset[o]) + y - first]
                let slot = (o % ring) * 3 * accumulatorWidth
                accumulators.withUnsafeMutableBufferPointer { acc in
                    for c in 0..<3 {
                        let out = acc.baseAddress! + slot + c * accumulatorWidth
                        let row = src + (c * h + y) * w
                        for x in 0..<w { out[x] += weight * row[x] }
                    }
                }
                if y == first + n - 1 {
                    finish(row: o, slot: slot, width: w)
                    // Spans' ends never decrease, so every earlier row is done too.
                    nextRow = o + 1
                }
            }
            o += 1
        }
    }

    /// Resizes output row `o` horizontally into the output, then clears its slot.
    private mutating func finish(row o: Int, slot: Int, width w: Int) {
        let outWidth = outWidth, rowStride = rowStride, outHeight = outHeight
        let accumulatorWidth = accumulatorWidth
        accumulators.withUnsafeMutableBufferPointer { acc in
            output.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    let row = acc.baseAddress! + slot + c * accumulatorWidth
                    let out = dst.baseAddress! + (c * outHeight + o) * rowStride
                    if taps.count == 4 {
                        taps[0].withUnsafeBufferPointer { t0 in taps[1].withUnsafeBufferPointer { t1 in
                        taps[2].withUnsafeBufferPointer { t2 in taps[3].withUnsafeBufferPointer { t3 in
                        wx.start.withUnsafeBufferPointer { start in
                            for ox in 0..<outWidth {
                                let f = Int(start[ox])
                                // Same additions, in the same order, as the
                                // variable-length loop below; the padded taps add 0.
                                var sum: Float = 0
                                sum += t0[ox] * row[f]
                                sum += t1[ox] * row[f + 1]
                                sum += t2[ox] * row[f + 2]
                                sum += t3[ox] * row[f + 3]
                                out[ox] = sum
                            }
                        }}}}}
                    } else {
                        wx.weights.withUnsafeBufferPointer { weights in
                            for ox in 0..<outWidth {
                                let first = Int(wx.start[ox]), n = Int(wx.count[ox]), off = Int(wx.offset[ox])
                                var sum: Float = 0
                                for k in 0..<n { sum += weights[off + k] * row[first + k] }
                                out[ox] = sum
                            }
                        }
                    }
                    for x in 0..<w { row[x] = 0 }
                }
            }
        }
    }
}
