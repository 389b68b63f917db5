import FaceRPCKernels
import Testing

/// Checks `actual` against `expected` with a tolerance relative to the
/// expected tensor's magnitude (its largest absolute value).
func expectClose(_ actual: [Float], _ expected: [Float], relative: Float = 1e-4,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): count", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    let scale = max(expected.map(abs).max() ?? 0, 1e-6)
    var worst: Float = 0
    var worstIndex = 0
    for i in actual.indices {
        let e = abs(actual[i] - expected[i])
        if !(e <= worst) { worst = e; worstIndex = i }
    }
    #expect(worst <= relative * scale,
            "\(what): max error \(worst) at \(worstIndex) (got \(actual.isEmpty ? 0 : actual[worstIndex]), want \(expected.isEmpty ? 0 : expected[worstIndex])), scale \(scale)",
            sourceLocation: sourceLocation)
}
