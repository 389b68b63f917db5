// Winograd F(2x2, 3x3) for lane-batched images (`[c][y][x][16]`, 16 images
// interleaved pixel by pixel; see `LaneBatchedLayout`).
//
// In this layout every "pixel" is a whole vector of 16 images, so the tile
// transforms are plain vector additions with no shuffles or gathers, and the
// 16 products per tile are 1x1 convolutions that run on the direct kernel.
// MTCNN's R- and O-net spend most of their multiplies in 3x3 layers of 28 to
// 64 input channels on 8- to 21-pixel maps; there a 2x2 output tile costs
// 16 products per channel pair instead of 36.

/// `f32_winograd_2x2_3x3_input_lanes_simd16`: the input transform
/// `V = Bᵀ d B` of one row of tiles, for every input channel.
///
/// Lanes: 16 images. Step: one tile of one channel: 16 vector loads, 32
/// additions, 16 stores. Tile `t` reads columns `2t ..< 2t + 4` of rows
/// `row0 ..< row0 + 4`; a column or row past the image is read as the last
/// one instead (only the discarded second row or column of a clipped tile
/// depends on it, through `d3`).
///
/// - Parameters:
///   - input: row `row0`, channel 0; channel `c`, row `r`, pixel `x` start at
///     `input + c * inChannelStride + r * inRowStride + 16 * x`.
///   - rows: rows readable from `row0` (at least 3); `width`: pixels a row.
///   - v: `[16 ξ][channels][tiles][16]`.
@inline(__always)
public func f32_winograd_2x2_3x3_input_lanes_simd16(
    _ input: UnsafePointer<Float>, _ inChannelStride: Int, _ inRowStride: Int, _ channels: Int,
    _ rows: Int, _ width: Int, _ tiles: Int, _ v: UnsafeMutablePointer<Float>
) {
    let xiStride = channels * tiles * 16
    let r3 = min(3, rows - 1)
    for c in 0..<channels {
        let plane = input + c * inChannelStride
        let out = v + c * tiles * 16
        for t in 0..<tiles {
            @inline(__always) func col(_ k: Int) -> Int { 16 * min(2 * t + k, width - 1) }
            let x0 = col(0), x1 = col(1), x2 = col(2), x3 = col(3)
            @inline(__always) func ld(_ r: Int, _ x: Int) -> SIMD16<Float> { SIMD16(loadFrom: plane + r * inRowStride + x) }
            // Rows first: e_k = (Bᵀ d)_k for each of the 4 columns.
            @inline(__always) func rowsOf(_ x: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
                let d0 = ld(0, x), d1 = ld(1, x), d2 = ld(2, x), d3 = ld(r3, x)
                return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
            }
            let (a0, a1, a2, a3) = rowsOf(x0), (b0, b1, b2, b3) = rowsOf(x1)
            let (c0, c1, c2, c3) = rowsOf(x2), (e0, e1, e2, e3) = rowsOf(x3)
            // Then columns: V[k][l] = (e_k B)_l, stored at ξ = 4k + l.
            let o = out + t * 16
            @inline(__always) func put(_ k: Int, _ p: SIMD16<Float>, _ q: SIMD16<Float>, _ r: SIMD16<Float>, _ s: SIMD16<Float>) {
                (p - r).store(to: o + (4 * k) * xiStride)
                (q + r).store(to: o + (4 * k + 1) * xiStride)
                (r - q).store(to: o + (4 * k + 2) * xiStride)
                (q - s).store(to: o + (4 * k + 3) * xiStride)
            }
            put(0, a0, b0, c0, e0); put(1, a1, b1, c1, e1); put(2, a2, b2, c2, e2); put(3, a3, b3, c3, e3)
        }
    }
}

/// `f32_winograd_2x2_3x3_output_prelu_lanes_simd16`: the output transform
/// `Y = Aᵀ M A` of one row of tiles, plus bias and PReLU, into two output rows.
///
/// Lanes: 16 images. Step: one tile of one channel: 16 loads, 24 additions,
/// up to 4 stores; a tile clipped by the right edge stores its first column
/// only (// leftovers).
///
/// - Parameters:
///   - m: channel `c`, tile `t`, point ξ at `m + ξ * xiStride + (c * tiles + t) * 16`.
///   - row0, row1: output rows, channel 0 (`row1` nil when the second row lies
///     past the image); channel `c` at `+ c * outChannelStride`; `width` pixels.
///   - bias, slopes: one per channel; a slope of 1 is no activation.
@inline(__always)
public func f32_winograd_2x2_3x3_output_prelu_lanes_simd16(
    _ m: UnsafePointer<Float>, _ xiStride: Int, _ channels: Int, _ tiles: Int, _ bias: UnsafePointer<Float>,
    _ slopes: UnsafePointer<Float>,
    _ row0: UnsafeMutablePointer<Float>, _ row1: UnsafeMutablePointer<Float>?, _ outChannelStride: Int, _ width: Int
) {
    for c in 0..<channels {
        let base = m + c * tiles * 16
        let b = SIMD16<Float>(repeating: bias[c]), s = slopes[c]
        let o0 = row0 + c * outChannelStride, o1 = row1.map { $0 + c * outChannelStride }
        @inline(__always) func prelu(_ x: SIMD16<Float>) -> SIMD16<Float> { x.replacing(with: x * s, where: x .< 0) }
        for t in 0..<tiles {
            let p = base + t * 16
            @inline(__always) func ld(_ xi: Int) -> SIMD16<Float> { SIMD16(loadFrom: p + xi * xiStride) }
            // Rows of Aᵀ M (a: output row 0, e: output row 1), then columns.
            let a0 = ld(0) + ld(4) + ld(8), a1 = ld(1) + ld(5) + ld(9)
            let a2 = ld(2) + ld(6) + ld(10), a3 = ld(3) + ld(7) + ld(11)
            let e0 = ld(4) - ld(8) - ld(12), e1 = ld(5) - ld(9) - ld(13)
            let e2 = ld(6) - ld(10) - ld(14), e3 = ld(7) - ld(11) - ld(15)
            let x = 32 * t
            prelu(b + a0 + a1 + a2).store(to: o0 + x)
            if let o1 { prelu(b + e0 + e1 + e2).store(to: o1 + x) }
            if 2 * t + 1 < width {
                prelu(b + a1 - a2 - a3).store(to: o0 + x + 16)
                if let o1 { prelu(b + e1 - e2 - e3).store(to: o1 + x + 16) }
            }
        }
    }
}

/// A 3x3, stride-1, unpadded convolution with PReLU on lane-batched images,
/// computed with Winograd F(2x2, 3x3) two output rows at a time.
///
/// Weights are transformed once (`U = G g Gᵀ`, in Double) into 16 packed 1x1
/// convolutions, one per transform point ξ, which run on
/// ``f32_dconv_prelu_16x16_simd16`` with no bias or activation; bias and PReLU
/// are applied in the output transform. Results equal the direct convolution
/// to float rounding (the transforms add and subtract inputs of similar size;
/// `LaneBatchedWinogradTests` bounds the difference).
public struct PackedLaneWinogradConvolution: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    private let points: [PackedDirectConvolution]
    private let bias: [Float]
    private let slopes: [Float]

    /// - Parameters:
    ///   - weights: OIHW, `outChannels * inChannels * 9` values.
    ///   - bias: `outChannels` values; `slopes`: `outChannels` PReLU slopes, or nil.
    public init(inChannels: Int, outChannels: Int, weights: [Float], bias: [Float], slopes: [Float]?) {
        precondition(inChannels > 0 && outChannels > 0)
        precondition(weights.count == outChannels * inChannels * 9 && bias.count == outChannels)
        precondition(slopes == nil || slopes!.count == outChannels)
        self.inChannels = inChannels; self.outChannels = outChannels
        var transformed = [[Float]](repeating: [Float](repeating: 0, count: outChannels * inChannels), count: 16)
        for o in 0..<outChannels {
            for i in 0..<inChannels {
                let g = (0..<9).map { Double(weights[(o * inChannels + i) * 9 + $0]) }
                // G g (4x3), then (G g) Gᵀ (4x4).
                var gg = [Double](repeating: 0, count: 12)
                for c in 0..<3 {
                    let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                    gg[c] = g0; gg[3 + c] = (g0 + g1 + g2) / 2; gg[6 + c] = (g0 - g1 + g2) / 2; gg[9 + c] = g2
                }
                for row in 0..<4 {
                    let g0 = gg[3 * row], g1 = gg[3 * row + 1], g2 = gg[3 * row + 2]
                    let u = [g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2]
                    for col in 0..<4 { transformed[4 * row + col][o * inChannels + i] = Float(u[col]) }
                }
            }
        }
        let zeros = [Float](repeating: 0, count: outChannels)
        points = transformed.map {
            PackedDirectConvolution(inChannels: inChannels, outChannels: outChannels, kernelH: 1, kernelW: 1,
                                    weights: $0, bias: zeros, slopes: nil)
        }
        self.bias = bias
        self.slopes = slopes ?? [Float](repeating: 1, count: outChannels)
    }

    /// Tiles in a row of an output `width` pixels wide.
    public static func tiles(width: Int) -> Int { (width + 1) / 2 }

    /// Scratch floats ``runRowPair(input:inChannelStride:inRowStride:inputRows:outputWidth:scratch:row0:row1:outChannelStride:)``
    /// needs for an output `width` pixels wide.
    public func scratchCount(outputWidth width: Int) -> Int {
        16 * (inChannels + Self.channelsPerPass) * Self.tiles(width: width) * 16
    }

    /// Output channels whose 16 products are computed and folded back
    /// together: one kernel block, so the products (16 x 16 x tiles vectors,
    /// 180 KB for O-net's 11 tiles) stay in L2 between the two.
    static let channelsPerPass = 16

    /// Computes output rows `y` and `y + 1` (every channel, PReLU applied) from
    /// input rows `y ..< y + 4` of lane-batched images.
    ///
    /// - Parameters:
    ///   - input: input row `y`, channel 0; channel and row strides in floats,
    ///     pixels 16 floats apart.
    ///   - inputRows: rows readable from `y` (3 when row `y + 1` of the output
    ///     lies past the image, then `row1` is nil).
    ///   - outputWidth: pixels of an output row (input rows hold `outputWidth + 2`).
    ///   - scratch: ``scratchCount(outputWidth:)`` floats.
    public func runRowPair(input: UnsafePointer<Float>, inChannelStride: Int, inRowStride: Int, inputRows: Int,
                           outputWidth: Int, scratch: UnsafeMutablePointer<Float>,
                           row0: UnsafeMutablePointer<Float>, row1: UnsafeMutablePointer<Float>?, outChannelStride: Int) {
        let tiles = Self.tiles(width: outputWidth), pass = Self.channelsPerPass
        let v = scratch, m = scratch + 16 * inChannels * tiles * 16
        f32_winograd_2x2_3x3_input_lanes_simd16(input, inChannelStride, inRowStride, inChannels,
                                                inputRows, outputWidth + 2, tiles, v)
        // 10 or fewer outputs are one 10-channel kernel block; else 16-channel blocks.
        let blockWidth = points[0].blockWidth, blocks = points[0].blocks
        precondition(blockWidth <= pass)
        let xiStride = pass * tiles * 16
        bias.withUnsafeBufferPointer { b in
            slopes.withUnsafeBufferPointer { s in
                for block in 0..<blocks {
                    let first = block * blockWidth, channels = min(blockWidth, outChannels - first)
                    // Products of this block's channels: channel `first + c` at `m + ξ * xiStride + c * tiles * 16`.
                    for xi in 0..<16 {
                        points[xi].runRow(blocks: block..<(block + 1), input: v + xi * inChannels * tiles * 16,
                                          inChannelStride: tiles * 16, inRowStride: 0, tapStride: 16,
                                          output: m + xi * xiStride,
                                          outChannelStride: tiles * 16, width: tiles * 16)
                    }
                    f32_winograd_2x2_3x3_output_prelu_lanes_simd16(
                        m, xiStride, channels, tiles, b.baseAddress! + first, s.baseAddress! + first,
                        row0 + first * outChannelStride, row1.map { $0 + first * outChannelStride },
                        outChannelStride, outputWidth)
                }
            }
        }
    }
}
