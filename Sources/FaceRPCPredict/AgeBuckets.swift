import FaceRPCProtos

/// The 8 Levi-Hassner age buckets and how an expected age maps onto them.
public enum AgeBuckets {
    /// Inclusive year ranges, in the order of the `AgeBucket` enum (1...8).
    public static let ranges: [ClosedRange<Double>] = [0...2, 4...6, 8...12, 15...20, 25...32, 38...43, 48...53, 60...100]

    public static let labels = ["0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100"]

    public static let cases: [AgeBucket] = [.age0To2, .age4To6, .age8To12, .age15To20, .age25To32, .age38To43, .age48To53, .age60To100]

    /// The bucket index (0...7) for an age in years: the bucket containing it,
    /// or, between buckets, the nearest one (ties go to the older bucket).
    public static func index(forYears years: Double) -> Int {
        var best = 0
        var bestDistance = Double.infinity
        for (index, range) in ranges.enumerated() {
            let distance = range.contains(years) ? 0 : min(abs(years - range.lowerBound), abs(years - range.upperBound))
            if distance <= bestDistance {
                best = index
                bestDistance = distance
            }
            if distance == 0 { return index }
        }
        return best
    }

    /// Probability mass of each bucket from a distribution over ages
    /// (`weights[i]` is class i's age in years): each class goes to its bucket.
    public static func bucketProbabilities(classProbabilities: [Float], classYears: [Float]) -> [Float] {
        var mass = [Float](repeating: 0, count: ranges.count)
        for (p, years) in zip(classProbabilities, classYears) {
            mass[index(forYears: Double(years))] += p
        }
        return mass
    }
}
