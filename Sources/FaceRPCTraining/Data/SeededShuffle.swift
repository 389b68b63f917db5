import FaceRPCKernels

/// Seeded permutations and seed mixing, written out here (not
/// `Array.shuffle(using:)`, whose algorithm the standard library does not
/// promise to keep) so that a dataset split or an epoch order never changes
/// with the Swift version.
enum SeededShuffle {
    /// A permutation of `0..<count` (Fisher-Yates, from the last index down).
    static func permutation(count: Int, seed: UInt64) -> [Int] {
        var order = Array(0..<count)
        var rng = SplitMix64(seed: seed)
        var i = count - 1
        while i > 0 {
            let j = below(i + 1, &rng)
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// Uniform in `0..<bound` by the multiply-high method (bias below 2⁻³² for
    /// the bounds used here).
    static func below(_ bound: Int, _ rng: inout SplitMix64) -> Int {
        Int(UInt64(bound).multipliedFullWidth(by: rng.next()).high)
    }

    /// One well-mixed seed from two values (SplitMix64's finaliser on both).
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var rng = SplitMix64(seed: a)
        let first = rng.next()
        var second = SplitMix64(seed: first ^ b)
        return second.next()
    }
}
