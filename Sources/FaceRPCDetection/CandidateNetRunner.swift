import FaceRPCEngine
import FaceRPCKernels

/// MTCNN's R- and O-net run over candidate boxes 16 at a time, one candidate
/// per vector lane.
///
/// Both nets take small patches (24 and 48 pixels) through convolutions whose
/// rows are 3 to 46 pixels wide. On the generic engine those rows fill 16-lane
/// vectors badly, each layer is an im2col copy plus a GEMM, and the pools and
/// PReLUs are separate passes over tiny planes: R-net ran at about 56 GFLOP/s
/// and took half of all network time in a Predict (more than the age net).
/// Interleaving 16 candidates pixel by pixel (``LaneBatchedLayout``) makes
/// every vector full whatever the row width: each convolution is
/// ``f32_dconv_prelu_16x16_simd16`` with the PReLU fused, each pool is
/// whole-vector maxima (``f32_maxpool_lanes_simd16``), and the fully-connected
/// layers are 1x1 convolutions over the flattened features. A pool's input
/// rows live in a small ring, computed as the pool needs them, so O-net's first
/// layer (32 x 46 x 46 x 16 floats) never exists in full.
///
/// The result is the graph's to float rounding (`CandidateNetRunnerTests`).
struct CandidateNetRunner: Sendable {
    /// A convolution with its PReLU, and the max pool after it if any.
    struct Stage: Sendable {
        let conv: PackedDirectConvolution
        /// The same convolution by Winograd F(2x2, 3x3), two rows at a time,
        /// for 3x3 layers with at least ``winogradMinimumInputChannels``.
        let winograd: PackedLaneWinogradConvolution?
        let inHeight: Int, inWidth: Int
        let convHeight: Int, convWidth: Int
        let pool: PoolGeometry?
        var outHeight: Int { pool?.outH ?? convHeight }
        var outWidth: Int { pool?.outW ?? convWidth }
        /// Conv rows a pool keeps at once: a window's rows, plus the stride's
        /// worth being computed for the next one.
        /// Winograd rows come in pairs, so one more row may be computed ahead.
        var ringRows: Int { pool.map { $0.kernelH + $0.strideH + (winograd == nil ? 0 : 1) } ?? 0 }
    }

    /// Below this many input channels a 3x3 layer stays direct: the tile
    /// transforms, which cost the same per input channel whatever the output
    /// channels, stop being small beside the 16 products per channel pair
    /// (R-net's 28 -> 48 and O-net's 32 -> 64 and 64 -> 64 layers qualify,
    /// the 3-channel first layers do not).
    static let winogradMinimumInputChannels = 16

    let inputChannels: Int
    let inputSize: Int
    let stages: [Stage]
    /// Fully-connected layers as 1x1 convolutions over the flattened features
    /// (weights reordered to the lane-batched feature order).
    let hidden: PackedDirectConvolution
    let head: PackedDirectConvolution
    var outputs: Int { head.outChannels }

    /// Recognises R-/O-net: `[conv 3x3 or 2x2 (stride 1, unpadded), PReLU,
    /// optional max pool]+`, the transpose to `[W][H][C]` and flatten the
    /// converter writes, fully connected + PReLU, fully connected. Nil for any
    /// other graph (it then runs on ``Network``).
    /// `winograd: false` keeps every layer direct (for comparisons).
    init?(graph: Graph, winograd useWinograd: Bool = true) {
        guard graph.inputShape.count == 3, graph.inputShape[1] == graph.inputShape[2], graph.isStraightChain else { return nil }
        let nodes = graph.nodes
        var channels = graph.inputShape[0], height = graph.inputShape[1], width = graph.inputShape[2]
        var stages: [Stage] = []
        var i = 0
        while i + 1 < nodes.count, case .conv2d(let c) = nodes[i].op, case .prelu(let slopes) = nodes[i + 1].op {
            guard c.isDirectConvolution, c.inChannels == channels, slopes.count == c.outChannels,
                  c.kernelH <= height, c.kernelW <= width else { return nil }
            let conv = PackedDirectConvolution(c, slopes: slopes)
            let convH = height - c.kernelH + 1, convW = width - c.kernelW + 1
            i += 2
            var pool: PoolGeometry?
            if i < nodes.count, case .maxPool(let p) = nodes[i].op {
                let g = PoolGeometry(channels: c.outChannels, inH: convH, inW: convW, kernelH: p.kernelH, kernelW: p.kernelW,
                                     strideH: p.strideH, strideW: p.strideW, padTop: p.padTop, padLeft: p.padLeft,
                                     padBottom: p.padBottom, padRight: p.padRight, ceilMode: p.ceilMode)
                // Windows clipped at the bottom and right only, each starting inside the input.
                guard p.padTop == 0, p.padLeft == 0, g.outH >= 1, g.outW >= 1,
                      (g.outH - 1) * p.strideH < convH, (g.outW - 1) * p.strideW < convW else { return nil }
                pool = g
                i += 1
            }
            let winograd = useWinograd && c.kernelH == 3 && c.kernelW == 3 && c.inChannels >= Self.winogradMinimumInputChannels
                ? PackedLaneWinogradConvolution(inChannels: c.inChannels, outChannels: c.outChannels,
                                                weights: c.weights, bias: c.bias, slopes: slopes)
                : nil
            let stage = Stage(conv: conv, winograd: winograd, inHeight: height, inWidth: width, convHeight: convH, convWidth: convW, pool: pool)
            stages.append(stage)
            channels = c.outChannels; height = stage.outHeight; width = stage.outWidth
        }
        guard !stages.isEmpty, i + 5 == nodes.count,
              case .transpose(let perm) = nodes[i].op, perm == [2, 1, 0],
              case .flatten = nodes[i + 1].op,
              case .fullyConnected(let fc1) = nodes[i + 2].op, case .prelu(let slopes) = nodes[i + 3].op,
              case .fullyConnected(let fc2) = nodes[i + 4].op,
              fc1.activation == .none, fc2.activation == .none,
              fc1.inFeatures == channels * height * width, slopes.count == fc1.outFeatures,
              fc2.inFeatures == fc1.outFeatures else { return nil }
        // The graph flattens [W][H][C]; the lane-batched features lie [C][H][W].
        var reordered = [Float](repeating: 0, count: fc1.weights.count)
        let features = fc1.inFeatures
        for o in 0..<fc1.outFeatures {
            for c in 0..<channels {
                for y in 0..<height {
                    for x in 0..<width {
                        reordered[o * features + (c * height + y) * width + x] = fc1.weights[o * features + (x * height + y) * channels + c]
                    }
                }
            }
        }
        hidden = PackedDirectConvolution(inChannels: features, outChannels: fc1.outFeatures, kernelH: 1, kernelW: 1,
                                         weights: reordered, bias: fc1.bias, slopes: slopes)
        head = PackedDirectConvolution(inChannels: fc2.inFeatures, outChannels: fc2.outFeatures, kernelH: 1, kernelW: 1,
                                       weights: fc2.weights, bias: fc2.bias, slopes: nil)
        inputChannels = graph.inputShape[0]
        inputSize = graph.inputShape[1]
        self.stages = stages
    }

    /// Runs `count` candidates (`[count][channels][size][size]`) and returns
    /// `[count][outputs]`, blocks of 16 spread over `threads` threads.
    func run(_ batch: [Float], count: Int, threads: Int) -> [Float] {
        let lanes = LaneBatchedLayout.lanes
        let imageElements = inputChannels * inputSize * inputSize
        precondition(batch.count >= count * imageElements)
        guard count > 0 else { return [] }
        let blocks = (count + lanes - 1) / lanes
        let tasks = max(1, min(threads, blocks))
        // Per-task scratch: the packed input, each stage's ring, output and
        // Winograd tiles, the hidden layer and the head.
        var sizes = [imageElements * lanes]
        for s in stages {
            sizes.append(s.pool == nil ? 0 : s.conv.outChannels * s.ringRows * s.convWidth * lanes)
            sizes.append(s.conv.outChannels * s.outHeight * s.outWidth * lanes)
            sizes.append(s.winograd?.scratchCount(outputWidth: s.convWidth) ?? 0)
        }
        sizes += [hidden.outChannels * lanes, head.outChannels * lanes]
        var offsets: [Int] = [], total = 0
        for size in sizes { offsets.append(total); total += size }
        let perTask = total
        // Neither the scratch nor the result is zeroed: every value is written
        // before it is read (a partial block's spare lanes are zeroed by the
        // packing), and every result row is written.
        return [Float](unsafeUninitializedCapacity: count * outputs) { result, initialized in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: tasks * perTask) { scratch in
                batch.withUnsafeBufferPointer { input in
                    // Tasks write disjoint scratch and disjoint rows of `result`.
                    let input = input.baseAddress!, scratch = scratch.baseAddress!, output = result.baseAddress!
                    parallelFor(tasks) { t in
                        let base = scratch + t * perTask
                        for block in sliceRange(t, of: tasks, count: blocks) {
                            let first = block * lanes, n = min(lanes, count - first)
                            runBlock(input, first: first, count: n, scratch: base, offsets: offsets, into: output)
                        }
                    }
                }
            }
            initialized = count * outputs
        }
    }

    private func runBlock(_ input: UnsafePointer<Float>, first: Int, count: Int, scratch: UnsafeMutablePointer<Float>,
                          offsets: [Int], into result: UnsafeMutablePointer<Float>) {
        let lanes = LaneBatchedLayout.lanes
        var x = scratch + offsets[0]
        LaneBatchedLayout.pack(input, first: first, count: count,
                               imageElements: inputChannels * inputSize * inputSize, into: x)
        for (k, s) in stages.enumerated() {
            let inRow = s.inWidth * lanes, inPlane = s.inHeight * inRow
            let y = scratch + offsets[2 + 3 * k], tiles = scratch + offsets[3 + 3 * k]
            /// Computes conv row `r` into `row(r)`, or with Winograd rows `r`
            /// and `r + 1` (when it exists); returns the rows computed.
            func convRows(_ r: Int, into row: (Int) -> UnsafeMutablePointer<Float>, channelStride: Int) -> Int {
                if let w = s.winograd {
                    w.runRowPair(input: x + r * inRow, inChannelStride: inPlane, inRowStride: inRow,
                                 inputRows: min(4, s.inHeight - r), outputWidth: s.convWidth, scratch: tiles,
                                 row0: row(r), row1: r + 1 < s.convHeight ? row(r + 1) : nil, outChannelStride: channelStride)
                    return 2
                }
                s.conv.runRow(input: x + r * inRow, inChannelStride: inPlane, inRowStride: inRow, tapStride: lanes,
                              output: row(r), outChannelStride: channelStride, width: s.convWidth * lanes)
                return 1
            }
            if let pool = s.pool {
                let ring = scratch + offsets[1 + 3 * k], ringRows = s.ringRows
                let convRowSize = s.convWidth * lanes, ringPlane = ringRows * convRowSize
                let outRow = s.outWidth * lanes, outPlane = s.outHeight * outRow
                var computed = 0
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: pool.kernelH) { rows in
                    for py in 0..<s.outHeight {
                        let r0 = py * pool.strideH, r1 = min(r0 + pool.kernelH, s.convHeight)
                        while computed < r1 {
                            computed += convRows(computed, into: { ring + ($0 % ringRows) * convRowSize }, channelStride: ringPlane)
                        }
                        for r in r0..<r1 { rows[r - r0] = UnsafePointer(ring + (r % ringRows) * convRowSize) }
                        f32_maxpool_lanes_simd16(UnsafeBufferPointer(rebasing: rows[0..<(r1 - r0)]), ringPlane,
                                                 s.conv.outChannels, s.convWidth, pool.kernelW, pool.strideW,
                                                 y + py * outRow, outPlane, s.outWidth)
                    }
                }
            } else {
                let outRow = s.convWidth * lanes
                var r = 0
                while r < s.convHeight { r += convRows(r, into: { y + $0 * outRow }, channelStride: s.convHeight * outRow) }
            }
            x = y
        }
        let h = scratch + offsets[offsets.count - 2], o = scratch + offsets[offsets.count - 1]
        hidden.runRow(input: x, inChannelStride: lanes, inRowStride: 0, tapStride: lanes,
                      output: h, outChannelStride: lanes, width: lanes)
        head.runRow(input: h, inChannelStride: lanes, inRowStride: 0, tapStride: lanes,
                    output: o, outChannelStride: lanes, width: lanes)
        LaneBatchedLayout.unpack(o, features: outputs, first: first, count: count, into: result)
    }
}
