/// Raw (already decoded) RGB input, e.g. a request's `RawImage` message.
public enum RawImage {
    /// Builds an ``RGBImage`` from interleaved 8-bit RGB rows that may be padded.
    ///
    /// - Parameters:
    ///   - stride: bytes from one row's start to the next; at least `3 * width`.
    ///   - bytes: at least `stride * (height - 1) + 3 * width` bytes (the last row
    ///     need not be padded); extra trailing bytes are ignored.
    /// - Throws: ``ImageError/invalidRawImage(_:)`` for inconsistent sizes,
    ///   ``ImageError/tooLarge(width:height:reason:)`` over `limits` (checked before copying).
    public static func fromRawRGB(
        width: Int, height: Int, stride: Int, bytes: [UInt8], limits: ImageLimits = .default
    ) throws(ImageError) -> RGBImage {
        guard width > 0, height > 0 else {
            throw .invalidRawImage("width and height must be positive, got \(width)x\(height)")
        }
        try limits.check(width: width, height: height)
        let rowBytes = 3 * width
        guard stride >= rowBytes else {
            throw .invalidRawImage("stride \(stride) is smaller than 3 * width = \(rowBytes)")
        }
        let (rows, o1) = stride.multipliedReportingOverflow(by: height - 1)
        let (needed, o2) = rows.addingReportingOverflow(rowBytes)
        guard !o1, !o2, bytes.count >= needed else {
            throw .invalidRawImage("\(bytes.count) bytes given, \(width)x\(height) with stride \(stride) needs \(o1 || o2 ? "more than Int.max" : String(needed))")
        }
        if stride == rowBytes && bytes.count == rowBytes * height {
            return RGBImage(width: width, height: height, pixels: bytes)
        }
        let pixels = [UInt8](unsafeUninitializedCapacity: rowBytes * height) { out, initialized in
            bytes.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    UnsafeMutableRawPointer(out.baseAddress! + y * rowBytes)
                        .copyMemory(from: src.baseAddress! + y * stride, byteCount: rowBytes)
                }
            }
            initialized = rowBytes * height
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
