import CTurboJPEG

/// The colour space a JPEG was stored in (what the decoder converted from).
public enum JPEGColorSpace: Sendable, Equatable {
    case rgb, yCbCr, gray, cmyk, ycck
}

/// A decoded JPEG: upright RGB pixels plus what was learned on the way.
public struct DecodedImage: Sendable, Equatable {
    /// The pixels, with the EXIF orientation already applied (when requested).
    public var image: RGBImage
    /// The width and height stored in the JPEG header, before orientation.
    public var storedWidth: Int
    public var storedHeight: Int
    /// The EXIF orientation found in the file.
    public var orientation: ImageOrientation
    /// Whether ``orientation`` was applied to ``image``.
    public var orientationApplied: Bool
    /// The stored colour space.
    public var colorSpace: JPEGColorSpace
}

/// JPEG decoding with libjpeg-turbo (TurboJPEG API), hardened for untrusted input.
///
/// Behaviour:
/// - The header is read first; images over ``ImageLimits`` are refused with
///   ``ImageError/tooLarge(width:height:reason:)`` before the pixel buffer is allocated.
/// - Empty input, non-JPEG bytes, corrupt and truncated files throw; nothing crashes.
///   Every libjpeg *warning* (premature end of data, corrupt entropy data, extraneous
///   bytes) is treated as an error and decoding stops at the first one
///   (`TJFLAG_STOPONWARNING`): a partially decoded image must not reach a model.
/// - Progressive files are limited to libjpeg-turbo's scan limit (`TJFLAG_LIMITSCANS`),
///   which defuses the many-scans CPU exhaustion attack.
/// - Grayscale is replicated to R = G = B; CMYK and YCCK are converted to RGB
///   (samples are taken as inverted when an Adobe APP14 marker is present, as
///   Photoshop and libjpeg write them).
/// - The accurate integer IDCT and smooth ("fancy") chroma upsampling are used,
///   the same choices as PIL and dlib's own loader, so pixels match theirs.
public enum JPEGDecoder {
    /// Decodes `bytes` to upright RGB.
    /// - Parameters:
    ///   - limits: bounds checked against the header before allocating.
    ///   - applyOrientation: apply the EXIF orientation (default true).
    public static func decode(
        _ bytes: [UInt8], limits: ImageLimits = .default, applyOrientation: Bool = true
    ) throws(ImageError) -> DecodedImage {
        // withUnsafeBytes is rethrows (untyped); carry the typed result out instead.
        let result: Result<DecodedImage, ImageError> = bytes.withUnsafeBytes { raw in
            Result { () throws(ImageError) in try decode(raw, limits: limits, applyOrientation: applyOrientation) }
        }
        return try result.get()
    }

    /// Decodes the JPEG in `bytes` (see ``decode(_:limits:applyOrientation:)-([UInt8],_,_)``).
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, limits: ImageLimits = .default, applyOrientation: Bool = true
    ) throws(ImageError) -> DecodedImage {
        guard bytes.count > 0, let base = bytes.baseAddress else { throw .empty }
        guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else {
            throw .notJPEG(sniffFormat(bytes))
        }
        let meta = JPEGMetadata.scan(bytes)
        let handle = try TurboJPEGHandle(.decompress)
        let src = base.assumingMemoryBound(to: UInt8.self)
        let size = UInt(bytes.count)

        var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, cs: Int32 = 0
        guard tjDecompressHeader3(handle.raw, src, size, &w, &h, &subsamp, &cs) == 0 else {
            throw .corrupt(handle.lastErrorMessage)
        }
        let width = Int(w), height = Int(h)
        try limits.check(width: width, height: height)

        let colorSpace: JPEGColorSpace
        switch cs {
        case facerpc_tj_cs_gray(): colorSpace = .gray
        case facerpc_tj_cs_cmyk(): colorSpace = .cmyk
        case facerpc_tj_cs_ycck(): colorSpace = .ycck
        case 0: colorSpace = .rgb
        case 1: colorSpace = .yCbCr
        default: throw .unsupported("unknown colour space \(cs)")
        }

        let flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
        let fourChannel = colorSpace == .cmyk || colorSpace == .ycck
        let channels = fourChannel ? 4 : 3
        let pixelFormat = fourChannel ? facerpc_tj_pf_cmyk() : facerpc_tj_pf_rgb()
        var status: Int32 = 0
        // Uninitialised capacity: libjpeg writes every byte on success, and on
        // failure the buffer is dropped unread.
        let decoded = [UInt8](unsafeUninitializedCapacity: width * height * channels) { out, initialized in
            status = tjDecompress2(handle.raw, src, size, out.baseAddress, w, 0, h, pixelFormat, flags)
            initialized = width * height * channels
        }
        if status != 0 {
            let message = handle.lastErrorMessage
            throw .corrupt(handle.lastErrorWasWarning ? "\(message) (libjpeg warning; treated as an error)" : message)
        }
        var rgb: RGBImage
        if fourChannel {
            rgb = cmykToRGB(decoded, width: width, height: height, inverted: meta.adobeTransform != nil)
        } else {
            rgb = RGBImage(width: width, height: height, pixels: decoded)
        }
        if applyOrientation { rgb = meta.orientation.apply(to: rgb) }
        return DecodedImage(
            image: rgb, storedWidth: width, storedHeight: height,
            orientation: meta.orientation, orientationApplied: applyOrientation, colorSpace: colorSpace)
    }

    /// Converts CMYK samples to RGB: R = (255 − C)(255 − K)/255, rounded; with
    /// `inverted` (Adobe) samples the stored value already is 255 − C.
    static func cmykToRGB(_ cmyk: [UInt8], width: Int, height: Int, inverted: Bool) -> RGBImage {
        let n = width * height
        let pixels = [UInt8](unsafeUninitializedCapacity: n * 3) { out, initialized in
            cmyk.withUnsafeBufferPointer { src in
                let flip: UInt32 = inverted ? 0 : 255
                for i in 0..<n {
                    let k = UInt32(src[4 * i + 3]) ^ flip
                    for c in 0..<3 {
                        // Exact rounding of a·b/255 for a, b in 0...255.
                        let t = (UInt32(src[4 * i + c]) ^ flip) * k + 128
                        out[3 * i + c] = UInt8(truncatingIfNeeded: (t + (t >> 8)) >> 8)
                    }
                }
            }
            initialized = n * 3
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Names the format of non-JPEG bytes for the error message.
    static func sniffFormat(_ b: UnsafeRawBufferPointer) -> String {
        func starts(_ sig: [UInt8]) -> Bool { b.count >= sig.count && zip(b, sig).allSatisfy { $0 == $1 } }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "the data is a PNG image; send JPEG bytes" }
        if starts([0x47, 0x49, 0x46, 0x38]) { return "the data is a GIF image; send JPEG bytes" }
        if starts([0x42, 0x4D]) { return "the data is a BMP image; send JPEG bytes" }
        if starts([0x52, 0x49, 0x46, 0x46]) { return "the data is a RIFF (WebP?) file; send JPEG bytes" }
        let head = b.prefix(4).map { byte in
            let s = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + s : s
        }.joined(separator: " ")
        return "missing SOI marker FF D8 (first bytes: \(head))"
    }
}
