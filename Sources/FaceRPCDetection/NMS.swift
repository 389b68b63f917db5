/// A candidate face box in image pixels, as the MTCNN stages pass it along:
/// corners `(x1, y1)`–`(x2, y2)`, the latest stage's face probability and,
/// after O-net, five landmarks.
struct CandidateBox: Sendable, Equatable {
    var x1: Double
    var y1: Double
    var x2: Double
    var y2: Double
    /// Kept in Double: float32 face probabilities saturate (many strong
    /// proposals score exactly 1), and the order of tied scores decides which
    /// box NMS keeps. Double keeps the order the logits imply.
    var score: Double
    /// x of the 5 landmarks then y of the 5 (empty before O-net).
    var landmarks: [Double] = []

    var width: Double { x2 - x1 }
    var height: Double { y2 - y1 }
}

/// How NMS measures overlap: intersection over union, or over the smaller box.
enum OverlapMeasure: Sendable {
    case union
    case minimum
}

enum BoxOps {
    /// Sorts by descending score. Ties keep no particular order, as in the
    /// reference (numpy's unstable argsort, reversed).
    static func sortedByScore(_ boxes: [CandidateBox]) -> [CandidateBox] {
        boxes.sorted { $0.score > $1.score }
    }

    /// The mtcnn package's non-maximum suppression on boxes sorted by
    /// descending score: box `j` is dropped when ANY box before it (kept or
    /// not) overlaps it by more than `threshold`. This is not the usual
    /// greedy NMS (where only kept boxes suppress); it is kept because the
    /// detector reproduces the package's results. Areas have no +1, so a
    /// degenerate box overlaps nothing (the reference's NaN compares false).
    ///
    /// O(n²): callers cap `n` (see ``MTCNNLimits``).
    static func suppress(_ boxes: [CandidateBox], threshold: Double, measure: OverlapMeasure) -> [CandidateBox] {
        let n = boxes.count
        guard n > 1 else { return boxes }
        var x1 = [Double](), y1 = [Double](), x2 = [Double](), y2 = [Double](), area = [Double]()
        x1.reserveCapacity(n); y1.reserveCapacity(n); x2.reserveCapacity(n); y2.reserveCapacity(n); area.reserveCapacity(n)
        for b in boxes {
            x1.append(b.x1); y1.append(b.y1); x2.append(b.x2); y2.append(b.y2)
            area.append((b.x2 - b.x1) * (b.y2 - b.y1))
        }
        var kept: [CandidateBox] = []
        for j in 0..<n {
            var suppressed = false
            for i in 0..<j {
                let w = min(x2[i], x2[j]) - max(x1[i], x1[j])
                let h = min(y2[i], y2[j]) - max(y1[i], y1[j])
                guard w > 0, h > 0 else { continue }
                let inter = w * h
                let denominator = measure == .union ? area[i] + area[j] - inter : min(area[i], area[j])
                if inter / denominator > threshold { suppressed = true; break }
            }
            if !suppressed { kept.append(boxes[j]) }
        }
        return kept
    }

    /// Grows each box to a square around its centre (side = the larger of
    /// width and height), as R- and O-net expect.
    static func squared(_ boxes: [CandidateBox]) -> [CandidateBox] {
        boxes.map { b in
            let w = b.width, h = b.height, side = max(w, h)
            var s = b
            s.x1 = b.x1 + w * 0.5 - side * 0.5
            s.y1 = b.y1 + h * 0.5 - side * 0.5
            s.x2 = s.x1 + side
            s.y2 = s.y1 + side
            return s
        }
    }

    /// Applies R-/O-net box regression: offsets are fractions of the box size
    /// counted inclusively (`x2 - x1 + 1`), as the package does.
    static func regressed(_ b: CandidateBox, _ d: (Float, Float, Float, Float)) -> CandidateBox {
        let w = b.x2 - b.x1 + 1, h = b.y2 - b.y1 + 1
        var r = b
        r.x1 += Double(d.0) * w
        r.y1 += Double(d.1) * h
        r.x2 += Double(d.2) * w
        r.y2 += Double(d.3) * h
        return r
    }
}
