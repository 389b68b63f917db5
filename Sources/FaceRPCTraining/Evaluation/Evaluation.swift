/// Classification metrics of one evaluation pass, as Levi & Hassner report
/// them (exact and one-off accuracy) and as the seed trainer prints them
/// (scikit-learn's confusion matrix and `classification_report`; the text
/// form is `facerpc train-report`'s, built from the TrainReport message).
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
}
