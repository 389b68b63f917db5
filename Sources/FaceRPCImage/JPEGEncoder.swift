import CTurboJPEG

/// JPEG encoding (used for `--annotate` output).
public enum JPEGEncoder {
    /// Encodes `image` as a baseline JPEG.
    /// - Parameter quality: 1...100; 4:4:4 chroma at 90 and above, 4:2:0 below.
    /// - Throws: ``ImageError/invalidArgument(_:)`` for a bad quality or empty image.
    public static func encode(_ image: RGBImage, quality: Int = 90) throws(ImageError) -> [UInt8] {
        guard (1...100).contains(quality) else { throw .invalidArgument("JPEG quality must be 1...100, got \(quality)") }
        guard image.width > 0, image.height > 0, image.width <= 65_500, image.height <= 65_500,
              image.pixels.count == image.width * image.height * 3 else {
            throw .invalidArgument("cannot encode a \(image.width)x\(image.height) image as JPEG")
        }
        let handle = try TurboJPEGHandle(.compress)
        let subsamp = quality >= 90 ? facerpc_tj_samp_444() : facerpc_tj_samp_420()
        let w = Int32(image.width), h = Int32(image.height)
        let capacity = Int(tjBufSize(w, h, subsamp))
        guard capacity > 0 else { throw .encodingFailed("tjBufSize failed for \(image.width)x\(image.height)") }
        var jpegSize: UInt = 0
        var status: Int32 = 0
        // A worst-case buffer plus NOREALLOC: libjpeg-turbo never mallocs behind our back.
        var out = [UInt8](repeating: 0, count: capacity)
        out.withUnsafeMutableBufferPointer { dst in
            image.pixels.withUnsafeBufferPointer { src in
                var dstPtr: UnsafeMutablePointer<UInt8>? = dst.baseAddress
                jpegSize = UInt(capacity)
                status = tjCompress2(
                    handle.raw, src.baseAddress, w, 0, h, facerpc_tj_pf_rgb(),
                    &dstPtr, &jpegSize, subsamp, Int32(quality), TJFLAG_NOREALLOC | TJFLAG_ACCURATEDCT)
            }
        }
        guard status == 0 else { throw .encodingFailed(handle.lastErrorMessage) }
        out.removeSubrange(Int(jpegSize)...)
        return out
    }
}
