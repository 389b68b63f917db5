/// Classification metrics of one evaluation pass, as Levi & Hassner report
/// them (exact and one-off accuracy) and as the seed trainer prints them
/// (scikit-learn's confusion matrix and `classification_report`).
public struct Evaluation: Sendable, Equatable, Codable {
    public struct ClassFigures: Sendable, Equatable, Codable {
        public var label: String
        /// Of the examples predicted as this class, the fraction that are; 0 when none were predicted.
        public var precision: Double
        /// Of the examples of this class, the fraction predicted as it; 0 when there are none.
        public var recall: Double
        /// Harmonic mean of precision and recall; 0 when both are 0.
        public var f1: Double
        /// Examples whose true class this is.
        public var support: Int
    }

    public var labels: [String]
    /// `confusion[t][p]`: examples of true class `t` predicted as `p`.
    public var confusion: [[Int]]
    public var examples: Int
    /// Exact accuracy, 0...1.
    public var accuracy: Double
    /// The prediction is the true class or a neighbour (meaningful for ordered
    /// classes such as the age buckets).
    public var oneOffAccuracy: Double
    public var classes: [ClassFigures]
    /// Unweighted mean of the per-class F1.
    public var macroF1: Double
    /// Accuracy of always answering the most frequent true class.
    public var baselineAccuracy: Double

    /// - Parameters:
    ///   - truth, predicted: class indices in `0..<labels.count`, one per example.
    /// - Precondition: same lengths; every index in range.
    public init(labels: [String], truth: [Int], predicted: [Int]) {
        precondition(truth.count == predicted.count, "one prediction per example")
        let k = labels.count
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (t, p) in zip(truth, predicted) {
            precondition((0..<k).contains(t) && (0..<k).contains(p), "class index out of range")
            matrix[t][p] += 1
        }
        self.labels = labels
        confusion = matrix
        examples = truth.count
        let n = Double(max(1, truth.count))
        accuracy = Double((0..<k).reduce(0) { $0 + matrix[$1][$1] }) / n
        oneOffAccuracy = Double(zip(truth, predicted).filter { abs($0 - $1) <= 1 }.count) / n
        classes = (0..<k).map { c in
            let support = matrix[c].reduce(0, +)
            let predictedAs = (0..<k).reduce(0) { $0 + matrix[$1][c] }
            let hit = Double(matrix[c][c])
            let precision = predictedAs == 0 ? 0 : hit / Double(predictedAs)
            let recall = support == 0 ? 0 : hit / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassFigures(label: labels[c], precision: precision, recall: recall, f1: f1, support: support)
        }
        macroF1 = k == 0 ? 0 : classes.reduce(0) { $0 + $1.f1 } / Double(k)
        baselineAccuracy = Double(classes.map(\.support).max() ?? 0) / n
    }

    /// A plain-text report in the layout of scikit-learn's
    /// `classification_report`, followed by the confusion matrix.
    public func formatted(oneOff: Bool) -> String {
        let width = max(12, (labels.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        func fixed(_ x: Double) -> String {
            let scaled = Int((x * 100).rounded())
            return "\(scaled / 100).\(scaled % 100 < 10 ? "0" : "")\(scaled % 100)"
        }
        var out = pad("", width) + pad("precision", 11) + pad("recall", 9) + pad("f1-score", 10) + pad("support", 9) + "\n\n"
        for c in classes {
            out += pad(c.label, width) + pad(fixed(c.precision), 11) + pad(fixed(c.recall), 9) + pad(fixed(c.f1), 10)
                + pad(String(c.support), 9) + "\n"
        }
        out += "\n" + pad("accuracy", width) + pad("", 20) + pad(fixed(accuracy), 10) + pad(String(examples), 9) + "\n"
        let macroP = classes.isEmpty ? 0 : classes.reduce(0) { $0 + $1.precision } / Double(classes.count)
        let macroR = classes.isEmpty ? 0 : classes.reduce(0) { $0 + $1.recall } / Double(classes.count)
        out += pad("macro avg", width) + pad(fixed(macroP), 11) + pad(fixed(macroR), 9) + pad(fixed(macroF1), 10)
            + pad(String(examples), 9) + "\n"
        if oneOff { out += pad("one-off", width) + pad("", 20) + pad(fixed(oneOffAccuracy), 10) + pad(String(examples), 9) + "\n" }
        out += pad("baseline", width) + pad("", 20) + pad(fixed(baselineAccuracy), 10) + pad(String(examples), 9) + "\n"
        out += "\nconfusion matrix (rows: true, columns: predicted)\n"
        let cell = max(6, (confusion.flatMap { $0 }.max().map { String($0).count } ?? 1) + 2)
        out += pad("", width) + labels.map { pad($0, max(cell, $0.count + 1)) }.joined() + "\n"
        for (t, row) in confusion.enumerated() {
            out += pad(labels[t], width) + row.enumerated().map { pad(String($1), max(cell, labels[$0].count + 1)) }.joined() + "\n"
        }
        return out
    }
}
