/// Why an image could not be decoded, encoded or built.
///
/// Every case carries a human-readable message; the server maps all of them to
/// `INVALID_ARGUMENT` (the request's bytes are at fault) except
/// ``encodingFailed(_:)``, which is an internal error.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No bytes at all.
    case empty
    /// The bytes do not start with a JPEG SOI marker (PNG, GIF, text, ...).
    case notJPEG(String)
    /// The header declares more pixels, or a longer side, than ``ImageLimits`` allows.
    /// Raised before any pixel buffer is allocated.
    case tooLarge(width: Int, height: Int, reason: String)
    /// The JPEG is truncated or its data is corrupt (libjpeg error or warning).
    case corrupt(String)
    /// A JPEG feature this decoder does not handle (e.g. an unknown colour space).
    case unsupported(String)
    /// A raw RGB buffer whose size, stride or dimensions are inconsistent.
    case invalidRawImage(String)
    /// An argument outside its documented range (chip size, quality, landmarks).
    case invalidArgument(String)
    /// libjpeg-turbo failed to compress (should not happen for valid images).
    case encodingFailed(String)

    public var description: String {
        switch self {
        case .empty: return "image is empty (0 bytes)"
        case .notJPEG(let m): return "not a JPEG image: \(m)"
        case .tooLarge(let w, let h, let r): return "image \(w)x\(h) is too large: \(r)"
        case .corrupt(let m): return "corrupt or truncated JPEG: \(m)"
        case .unsupported(let m): return "unsupported JPEG: \(m)"
        case .invalidRawImage(let m): return "invalid raw RGB image: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .encodingFailed(let m): return "JPEG encoding failed: \(m)"
        }
    }
}

/// Bounds on untrusted images, checked against the JPEG header (or the raw
/// image's declared size) before any pixel memory is allocated.
public struct ImageLimits: Sendable, Equatable {
    /// Most pixels (width × height) an image may have. The decoded RGB buffer is
    /// 3 bytes per pixel, so the default bounds it at 120 MB.
    public var maxPixels: Int
    /// Longest side, in pixels, of either dimension.
    public var maxSide: Int

    public init(maxPixels: Int = 40_000_000, maxSide: Int = 30_000) {
        self.maxPixels = maxPixels
        self.maxSide = maxSide
    }

    public static let `default` = ImageLimits()

    /// Throws ``ImageError/tooLarge(width:height:reason:)`` or
    /// ``ImageError/invalidArgument(_:)`` when `width` × `height` is out of bounds.
    public func check(width: Int, height: Int) throws(ImageError) {
        guard width > 0, height > 0 else {
            throw .invalidArgument("image dimensions must be positive, got \(width)x\(height)")
        }
        if width > maxSide || height > maxSide {
            throw .tooLarge(width: width, height: height, reason: "a side exceeds the limit of \(maxSide) pixels")
        }
        // Both sides are <= maxSide here, so the product cannot overflow for any sane limit.
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > maxPixels {
            throw .tooLarge(width: width, height: height, reason: "exceeds the limit of \(maxPixels) pixels")
        }
    }
}
