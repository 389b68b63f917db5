extension RGBImage {
    /// `pixels` is a public `var`, so its count can drift from `width × height × 3`.
    /// The loops here index by width and height, and this module builds with
    /// -Ounchecked (no bounds checks), so every entry point verifies the invariant
    /// with a check that survives unchecked builds.
    @inline(__always)
    func requireConsistent(_ function: StaticString) {
        guard width >= 0, height >= 0, pixels.count == width * height * 3 else {
            fatalError("\(function): RGBImage \(width)x\(height) holds \(pixels.count) bytes")
        }
    }
}
