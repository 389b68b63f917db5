import FaceRPCPredict
import Testing

@Suite struct AgeBucketsTests {
    @Test(arguments: [
        (0.0, 0), (2.0, 0), (3.0, 1), (4.0, 1), (7.0, 2), (13.0, 2), (14.0, 3), (20.0, 3), (22.0, 3), (23.0, 4),
        (32.0, 4), (35.0, 5), (36.0, 5), (45.0, 5), (46.0, 6), (55.0, 6), (56.0, 6), (58.0, 7), (80.0, 7), (110.0, 7),
    ])
    func nearestBucket(years: Double, bucket: Int) {
        #expect(AgeBuckets.index(forYears: years) == bucket)
    }

    @Test func bucketMassSumsToOne() {
        let years: [Float] = [0.25] + (1...80).map(Float.init)
        let p = [Float](repeating: 1 / 81, count: 81)
        let mass = AgeBuckets.bucketProbabilities(classProbabilities: p, classYears: years)
        #expect(abs(mass.reduce(0, +) - 1) < 1e-5)
        #expect(mass.allSatisfy { $0 > 0 })
    }
}
