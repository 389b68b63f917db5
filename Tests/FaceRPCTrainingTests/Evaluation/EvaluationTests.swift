import Testing
@testable import FaceRPCTraining

@Suite("Evaluation metrics")
struct EvaluationTests {
    @Test("figures match scikit-learn's for a hand-checked 3-class case")
    func handChecked() {
        // truth/predicted and expected values computed by hand (as sklearn's
        // confusion_matrix and classification_report define them).
        let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 1]
        let predicted = [0, 1, 0, 1, 2, 2, 2, 0, 2, 1]
        let e = Evaluation(labels: ["a", "b", "c"], truth: truth, predicted: predicted)
        #expect(e.confusion == [[2, 1, 0], [0, 2, 1], [1, 0, 3]])
        #expect(e.examples == 10)
        #expect(abs(e.accuracy - 0.7) < 1e-12)
        // |t - p| <= 1 everywhere except (2 → 0).
        #expect(abs(e.oneOffAccuracy - 0.9) < 1e-12)
        let a = e.classes[0], b = e.classes[1], c = e.classes[2]
        #expect(abs(a.precision - 2.0 / 3) < 1e-12 && abs(a.recall - 2.0 / 3) < 1e-12 && a.support == 3)
        #expect(abs(b.precision - 2.0 / 3) < 1e-12 && abs(b.recall - 2.0 / 3) < 1e-12 && b.support == 3)
        #expect(abs(c.precision - 0.75) < 1e-12 && abs(c.recall - 0.75) < 1e-12 && c.support == 4)
        #expect(abs(c.f1 - 0.75) < 1e-12)
        #expect(abs(e.macroF1 - (2.0 / 3 + 2.0 / 3 + 0.75) / 3) < 1e-12)
        #expect(abs(e.baselineAccuracy - 0.4) < 1e-12)
    }

    @Test("a class never predicted and a class never present give 0, not NaN")
    func emptyClasses() {
        let e = Evaluation(labels: ["x", "y", "z"], truth: [0, 0, 1], predicted: [0, 0, 0])
        #expect(e.classes[1].precision == 0 && e.classes[1].recall == 0 && e.classes[1].f1 == 0)
        #expect(e.classes[2].support == 0 && e.classes[2].f1 == 0)
        #expect(e.macroF1.isFinite)
        let none = Evaluation(labels: ["x", "y"], truth: [], predicted: [])
        #expect(none.accuracy == 0 && none.macroF1 == 0)
    }
}
