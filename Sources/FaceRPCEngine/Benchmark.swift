import FaceRPCKernels

/// Throughput of one network configuration.
public struct BenchmarkResult: Sendable, Codable {
    public var images_per_second: Double
    public var gflops: Double
    public var batch: Int
    public var threads: Int
    public var seconds: Double
}

/// Measures throughput: runs `network` on seeded random input for about
/// `seconds` of wall time (after one warm-up run) and returns images/s and GFLOP/s.
public func benchmark(network: Network, batch: Int, seconds: Double) -> BenchmarkResult {
    let batch = max(1, min(batch, EngineLimits.maxBatch))
    var rng = SplitMix64(seed: 42)
    let input = rng.floats(batch * network.inputShape.elementCount)
    let clock = ContinuousClock()
    _ = try? network.run(input, batch: batch)
    var runs = 0
    let start = clock.now
    var elapsed = 0.0
    repeat {
        _ = try? network.run(input, batch: batch)
        runs += 1
        let d = clock.now - start
        elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    } while elapsed < seconds
    let ips = Double(runs * batch) / elapsed
    return BenchmarkResult(images_per_second: ips, gflops: ips * network.flopsPerSample / 1e9,
                           batch: batch, threads: network.threads, seconds: elapsed)
}
