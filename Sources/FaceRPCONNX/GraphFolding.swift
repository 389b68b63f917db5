import FaceRPCEngine

/// Rewrites a lowered graph into fewer, equivalent nodes.
///
/// Every rule is an algebraic identity, so the folded graph computes the same
/// function; only float rounding may differ (a few ULP: `x·(w·s)` rounds once
/// where `(x·w)·s` rounds twice). A rule applies only when the intermediate
/// tensor it removes has no other reader and is not the graph output.
///
/// - `Conv`/`FullyConnected` then per-output-channel `affine(s, t)`:
///   `w' = w·s`, `b' = b·s + t`.
/// - `affine(s1, t1)` then `affine(s2, t2)`: `affine(s1·s2, t1·s2 + t2)` (an ONNX
///   `Mul` then `Add` merges without any rounding change).
/// - `Conv`/`FullyConnected` with no activation then `Relu`: fused activation.
/// - `affine(s, t)` then (optionally `Flatten`) then `FullyConnected`:
///   `w'[o][i] = w[o][i]·s[c(i)]`, `b'[o] = b[o] + Σᵢ w[o][i]·t[c(i)]`.
///   (An affine before a convolution is not folded: zero padding would then
///   see `t` instead of 0, which is not exact.)
/// - Nodes whose results nobody reads are dropped.
enum GraphFolding {
    static func fold(_ nodes: [GraphNode], outputName: String, shapes: [String: TensorShape]) -> [GraphNode] {
        var nodes = foldIntoProducers(nodes, outputName: outputName)
        nodes = foldAffineIntoFollowingFC(nodes, outputName: outputName, shapes: shapes)
        return removeDeadNodes(nodes, outputName: outputName)
    }

    /// How many times each tensor is read, the graph output counting as a read.
    private static func readCounts(_ nodes: [GraphNode], outputName: String) -> [String: Int] {
        var counts: [String: Int] = [outputName: 1]
        for n in nodes { for i in n.inputs { counts[i, default: 0] += 1 } }
        return counts
    }

    private static func foldIntoProducers(_ input: [GraphNode], outputName: String) -> [GraphNode] {
        var nodes = input
        let reads = readCounts(nodes, outputName: outputName)
        var producer: [String: Int] = [:]
        var removed = Set<Int>()
        for i in nodes.indices {
            let n = nodes[i]
            defer { for o in nodes[i].outputs where !removed.contains(i) { producer[o] = i } }
            guard n.inputs.count == 1, let j = producer[n.inputs[0]], reads[n.inputs[0]] == 1,
                  nodes[j].outputs.count == 1, let merged = fuse(nodes[j].op, then: n.op)
            else { continue }
            nodes[j].op = merged
            nodes[j].outputs = n.outputs
            removed.insert(i)
            for o in n.outputs { producer[o] = j }
        }
        return nodes.indices.filter { !removed.contains($0) }.map { nodes[$0] }
    }

    /// The single op computing `consumer(producer(x))`, or nil when there is none.
    private static func fuse(_ producer: LayerOp, then consumer: LayerOp) -> LayerOp? {
        switch (producer, consumer) {
        case (.conv2d(var c), .affine(let s, let t)) where c.activation == .none && s.count == c.outChannels:
            scaleRows(&c.weights, &c.bias, s, t)
            return .conv2d(c)
        case (.fullyConnected(var f), .affine(let s, let t)) where f.activation == .none && s.count == f.outFeatures:
            scaleRows(&f.weights, &f.bias, s, t)
            return .fullyConnected(f)
        case (.conv2d(var c), .relu) where c.activation == .none:
            c.activation = .relu
            return .conv2d(c)
        case (.fullyConnected(var f), .relu) where f.activation == .none:
            f.activation = .relu
            return .fullyConnected(f)
        case (.affine(let s1, let t1), .affine(let s2, let t2)) where s1.count == s2.count:
            return .affine(scale: zip(s1, s2).map { $0 * $1 },
                           shift: (0..<t1.count).map { Float(Double(t1[$0]) * Double(s2[$0]) + Double(t2[$0])) })
        default:
            return nil
        }
    }

    /// Row `o` of `weights` times `s[o]`; `bias[o]·s[o] + t[o]`, rounded once.
    private static func scaleRows(_ weights: inout [Float], _ bias: inout [Float], _ s: [Float], _ t: [Float]) {
        let rowLength = weights.count / s.count
        for o in s.indices {
            for k in (o * rowLength)..<((o + 1) * rowLength) { weights[k] *= s[o] }
            bias[o] = Float(Double(bias[o]) * Double(s[o]) + Double(t[o]))
        }
    }

    private static func foldAffineIntoFollowingFC(_ input: [GraphNode], outputName: String, shapes: [String: TensorShape]) -> [GraphNode] {
        var nodes = input
        var removed = Set<Int>()
        for i in nodes.indices {
            guard case .fullyConnected(var fc) = nodes[i].op, nodes[i].inputs.count == 1 else { continue }
            let reads = readCounts(nodes.indices.filter { !removed.contains($0) }.map { nodes[$0] }, outputName: outputName)
            var producer: [String: Int] = [:]
            for j in nodes.indices where !removed.contains(j) { for o in nodes[j].outputs { producer[o] = j } }

            // fc <- [flatten <-] affine
            var rewire = (node: i, input: 0)
            var x = nodes[i].inputs[0]
            guard reads[x] == 1, var a = producer[x] else { continue }
            if case .flatten = nodes[a].op, nodes[a].inputs.count == 1 {
                rewire = (a, 0)
                x = nodes[a].inputs[0]
                guard reads[x] == 1, let p = producer[x] else { continue }
                a = p
            }
            guard case .affine(let s, let t) = nodes[a].op, nodes[a].inputs.count == 1,
                  let shape = shapes[nodes[a].inputs[0]], shape.first == s.count
            else { continue }
            let inner = shape.dropFirst().reduce(1, *)
            guard s.count * inner == fc.inFeatures else { continue }
            for o in 0..<fc.outFeatures {
                var shift = Double(fc.bias[o])
                for k in 0..<fc.inFeatures {
                    let w = fc.weights[o * fc.inFeatures + k]
                    shift += Double(w) * Double(t[k / inner])
                    fc.weights[o * fc.inFeatures + k] = w * s[k / inner]
                }
                fc.bias[o] = Float(shift)
            }
            nodes[i].op = .fullyConnected(fc)
            nodes[rewire.node].inputs[rewire.input] = nodes[a].inputs[0]
            removed.insert(a)
        }
        return nodes.indices.filter { !removed.contains($0) }.map { nodes[$0] }
    }

    private static func removeDeadNodes(_ nodes: [GraphNode], outputName: String) -> [GraphNode] {
        var needed: Set<String> = [outputName]
        var kept: [GraphNode] = []
        for n in nodes.reversed() where n.outputs.contains(where: needed.contains) {
            kept.append(n)
            needed.formUnion(n.inputs)
        }
        return kept.reversed()
    }
}
