/// What this module reads from a JPEG's marker segments itself (libjpeg-turbo's
/// TurboJPEG API exposes neither): the EXIF orientation and the Adobe APP14
/// marker that tells whether CMYK samples are stored inverted.
///
/// Parsing is bounded: it walks the segments before the first SOS, never reads
/// past the input or past a segment's declared length, and ignores anything
/// malformed (a broken EXIF block yields ``ImageOrientation/topLeft``, never an
/// error: libjpeg decides whether the image itself is valid).
public struct JPEGMetadata: Sendable, Equatable {
    /// The EXIF orientation (``ImageOrientation/topLeft`` when absent or invalid).
    public var orientation: ImageOrientation = .topLeft
    /// Whether an APP1 `Exif` segment was found.
    public var hasEXIF = false
    /// The Adobe APP14 marker's transform byte, when present (0 = none/CMYK,
    /// 1 = YCbCr, 2 = YCCK). Its presence means CMYK samples are stored inverted.
    public var adobeTransform: UInt8?

    public init() {}

    /// Scans the marker segments of `bytes` (a JPEG file) up to the first SOS.
    public static func scan(_ bytes: UnsafeRawBufferPointer) -> JPEGMetadata {
        var meta = JPEGMetadata()
        let n = bytes.count
        guard n >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return meta }
        var pos = 2
        while pos + 4 <= n {
            guard bytes[pos] == 0xFF else { break }  // lost sync: leave it to libjpeg
            var marker = bytes[pos + 1]
            // Any number of 0xFF fill bytes may precede a marker.
            while marker == 0xFF {
                pos += 1
                guard pos + 1 < n else { return meta }
                marker = bytes[pos + 1]
            }
            pos += 2
            if marker == 0xD9 || marker == 0xDA { break }  // EOI or start of scan
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }  // no length field
            guard pos + 2 <= n else { break }
            let length = Int(bytes[pos]) << 8 | Int(bytes[pos + 1])
            guard length >= 2, pos + length <= n else { break }
            let body = UnsafeRawBufferPointer(rebasing: bytes[(pos + 2)..<(pos + length)])
            if marker == 0xE1, !meta.hasEXIF, body.count >= 6,
               body[0] == 0x45, body[1] == 0x78, body[2] == 0x69, body[3] == 0x66, body[4] == 0, body[5] == 0 {
                meta.hasEXIF = true
                meta.orientation = exifOrientation(tiff: UnsafeRawBufferPointer(rebasing: body[6...])) ?? .topLeft
            } else if marker == 0xEE, body.count >= 12,
                      body[0] == 0x41, body[1] == 0x64, body[2] == 0x6F, body[3] == 0x62, body[4] == 0x65 {
                meta.adobeTransform = body[11]
            }
            pos += length
        }
        return meta
    }

    /// Convenience over ``scan(_:)-(UnsafeRawBufferPointer)``.
    public static func scan(_ bytes: [UInt8]) -> JPEGMetadata {
        bytes.withUnsafeBytes { scan($0) }
    }

    /// Reads tag 0x0112 from IFD0 of a TIFF structure (either byte order).
    /// Returns nil when the structure is malformed or the tag is absent/invalid.
    static func exifOrientation(tiff: UnsafeRawBufferPointer) -> ImageOrientation? {
        let n = tiff.count
        guard n >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): bigEndian = false  // "II"
        case (0x4D, 0x4D): bigEndian = true   // "MM"
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= n else { return nil }
            let a = Int(tiff[at]), b = Int(tiff[at + 1])
            return bigEndian ? (a << 8 | b) : (b << 8 | a)
        }
        func u32(_ at: Int) -> Int? {
            guard let hi = u16(bigEndian ? at : at + 2), let lo = u16(bigEndian ? at + 2 : at) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for i in 0..<count {
            let entry = ifd + 2 + 12 * i
            guard entry + 12 <= n else { return nil }
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112 {
                // Type 3 is SHORT; the value sits left-aligned in the 4-byte value field.
                guard u16(entry + 2) == 3, let cnt = u32(entry + 4), cnt >= 1, let value = u16(entry + 8) else { return nil }
                return ImageOrientation(rawValue: value)
            }
        }
        return nil
    }
}
