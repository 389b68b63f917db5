import CTurboJPEG
import Foundation
import Testing
@testable import FaceRPCImage

@Suite("JPEG decoding")
struct JPEGDecoderTests {
    static let base: [UInt8] = (try? TestSupport.fixture("base.rgb")) ?? []
    /// Block-centre colours of the 24x16 orientation truth (2 rows x 3 columns of 8x8 blocks).
    static func blockCentres(_ img: RGBImage) -> [[Int]] {
        var out: [[Int]] = []
        for by in 0..<2 {
            for bx in 0..<3 {
                let i = ((by * 8 + 4) * img.width + bx * 8 + 4) * 3
                out.append([Int(img.pixels[i]), Int(img.pixels[i + 1]), Int(img.pixels[i + 2])])
            }
        }
        return out
    }

    @Test("real photos from ../shared decode to positive-size RGB")
    func realPhotos() throws {
        var urls = TestSupport.utkfaceImages(25)
        for name in ["demo_smahesh29/girl1.jpg", "demo_smahesh29/kid1.jpg", "dlib_faces/2008_001009.jpg",
                     "dlib_faces/bald_guys.jpg", "adience_align/Meryl_Streep_0013.jpg"] {
            if let url = TestSupport.detectionImage(name) { urls.append(url) }
        }
        guard !urls.isEmpty else { return }  // ../shared absent
        for url in urls {
            let bytes = try #require(TestSupport.read(url))
            let decoded = try JPEGDecoder.decode(bytes)
            #expect(decoded.image.width > 0 && decoded.image.height > 0)
            #expect(decoded.image.pixels.count == decoded.image.width * decoded.image.height * 3)
            // Photos are not flat: a decoder returning zeros would fail this.
            #expect(Set(decoded.image.pixels.prefix(30_000)).count > 20, "\(url.lastPathComponent)")
        }
    }

    @Test("grayscale JPEG is replicated to R = G = B and matches PIL")
    func grayscale() throws {
        let decoded = try JPEGDecoder.decode(try TestSupport.fixture("gray.jpg"))
        #expect(decoded.colorSpace == .gray)
        #expect(decoded.image.width == 16 && decoded.image.height == 12)
        let p = decoded.image.pixels
        for i in stride(from: 0, to: p.count, by: 3) { #expect(p[i] == p[i + 1] && p[i] == p[i + 2]) }
        #expect(TestSupport.compare(p, try TestSupport.fixture("gray.rgb")).maxDiff <= 1)
    }

    @Test("Adobe CMYK JPEG converts to the RGB PIL gives and to the original colours")
    func cmyk() throws {
        let bytes = try TestSupport.fixture("cmyk.jpg")
        #expect(JPEGMetadata.scan(bytes).adobeTransform != nil)
        let decoded = try JPEGDecoder.decode(bytes)
        #expect(decoded.colorSpace == .cmyk)
        #expect(TestSupport.compare(decoded.image.pixels, try TestSupport.fixture("cmyk.rgb")).maxDiff <= 1)
        let want = Self.blockCentres(RGBImage(width: 24, height: 16, pixels: Self.base))
        for (g, w) in zip(Self.blockCentres(decoded.image), want) {
            #expect(zip(g, w).allSatisfy { abs($0 - $1) <= 12 }, "\(g) vs \(w)")
        }
    }

    @Test("YCCK JPEG (libjpeg-turbo's CMYK compression) decodes through CMYK to RGB")
    func ycck() throws {
        // Stored Adobe-style (inverted): C' = R, M' = G, Y' = B, K' = 255 means RGB (R, G, B).
        let w = 24, h = 16
        var cmyk = [UInt8](repeating: 255, count: w * h * 4)
        for i in 0..<(w * h) { for c in 0..<3 { cmyk[4 * i + c] = Self.base[3 * i + c] } }
        let handle = try #require(tjInitCompress())
        defer { tjDestroy(handle) }
        var size: UInt = tjBufSize(Int32(w), Int32(h), facerpc_tj_samp_444())
        var jpeg = [UInt8](repeating: 0, count: Int(size))
        let status = jpeg.withUnsafeMutableBufferPointer { dst in
            cmyk.withUnsafeBufferPointer { src in
                var p: UnsafeMutablePointer<UInt8>? = dst.baseAddress
                return tjCompress2(handle, src.baseAddress, Int32(w), 0, Int32(h), facerpc_tj_pf_cmyk(),
                                   &p, &size, facerpc_tj_samp_444(), 95, TJFLAG_NOREALLOC)
            }
        }
        #expect(status == 0)
        jpeg.removeSubrange(Int(size)...)
        let decoded = try JPEGDecoder.decode(jpeg)
        #expect(decoded.colorSpace == .ycck)
        let want = Self.blockCentres(RGBImage(width: w, height: h, pixels: Self.base))
        for (g, wc) in zip(Self.blockCentres(decoded.image), want) {
            #expect(zip(g, wc).allSatisfy { abs($0 - $1) <= 12 }, "\(g) vs \(wc)")
        }
    }

    @Test("progressive 4:2:0 JPEG matches PIL's decode")
    func progressive() throws {
        let decoded = try JPEGDecoder.decode(try TestSupport.fixture("progressive.jpg"))
        #expect(decoded.image.width == 40 && decoded.image.height == 24)
        #expect(TestSupport.compare(decoded.image.pixels, try TestSupport.fixture("progressive.rgb")).maxDiff <= 1)
    }

    @Test("all 8 EXIF orientations, both byte orders, come out upright",
          arguments: ["ii", "mm"], ImageOrientation.allCases)
    func orientation(_ order: String, _ orientation: ImageOrientation) throws {
        let bytes = try TestSupport.fixture("orient_\(order)_\(orientation.rawValue).jpg")
        let meta = JPEGMetadata.scan(bytes)
        #expect(meta.hasEXIF && meta.orientation == orientation)
        let decoded = try JPEGDecoder.decode(bytes)
        #expect(decoded.orientation == orientation)
        #expect(decoded.image.width == 24 && decoded.image.height == 16)
        let want = Self.blockCentres(RGBImage(width: 24, height: 16, pixels: Self.base))
        for (g, w) in zip(Self.blockCentres(decoded.image), want) {
            #expect(zip(g, w).allSatisfy { abs($0 - $1) <= 12 }, "orientation \(orientation.rawValue): \(g) vs \(w)")
        }
        let stored = try JPEGDecoder.decode(bytes, applyOrientation: false)
        #expect(stored.image.width == (orientation.swapsDimensions ? 16 : 24))
        #expect(stored.storedWidth == stored.image.width && stored.storedHeight == stored.image.height)
    }

    /// Rewrites the first SOF segment's dimensions.
    static func patchSOF(_ jpeg: [UInt8], width: Int, height: Int) -> [UInt8] {
        var b = jpeg
        var i = 2
        while i + 9 < b.count {
            let marker = b[i + 1], length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if (0xC0...0xC3).contains(marker) {
                b[i + 5] = UInt8(height >> 8); b[i + 6] = UInt8(height & 0xFF)
                b[i + 7] = UInt8(width >> 8); b[i + 8] = UInt8(width & 0xFF)
                return b
            }
            i += 2 + length
        }
        return b
    }

    @Test("a header declaring 65000x65000 is refused before the 12.7 GB buffer is allocated")
    func pixelLimit() throws {
        let huge = Self.patchSOF(try TestSupport.fixture("orient_ii_1.jpg"), width: 65000, height: 65000)
        #expect(throws: ImageError.tooLarge(width: 65000, height: 65000, reason: "a side exceeds the limit of 30000 pixels")) {
            try JPEGDecoder.decode(huge)
        }
        // Within the side limit but over the pixel limit.
        let wide = Self.patchSOF(try TestSupport.fixture("orient_ii_1.jpg"), width: 29000, height: 2000)
        #expect(throws: ImageError.tooLarge(width: 29000, height: 2000, reason: "exceeds the limit of 40000000 pixels")) {
            try JPEGDecoder.decode(wide)
        }
        let small = try TestSupport.fixture("orient_ii_1.jpg")
        #expect(throws: ImageError.self) { try JPEGDecoder.decode(small, limits: ImageLimits(maxPixels: 383)) }
        #expect(throws: ImageError.self) { try JPEGDecoder.decode(small, limits: ImageLimits(maxSide: 23)) }
        #expect(try JPEGDecoder.decode(small, limits: ImageLimits(maxPixels: 384, maxSide: 24)).image.width == 24)
    }

    @Test("truncation at every offset is an error, never a crash or a partial image")
    func truncation() throws {
        var files = [try TestSupport.fixture("progressive.jpg"), try TestSupport.fixture("orient_mm_6.jpg"),
                     try TestSupport.fixture("gray.jpg"), try TestSupport.fixture("cmyk.jpg")]
        if let url = TestSupport.utkfaceImages(1).first, let bytes = TestSupport.read(url) { files.append(bytes) }
        for file in files {
            _ = try JPEGDecoder.decode(file)
            let step = max(1, file.count / 400)
            for cut in stride(from: 0, to: file.count, by: step) {
                #expect(throws: ImageError.self, "cut at \(cut) of \(file.count)") {
                    try JPEGDecoder.decode(Array(file.prefix(cut)))
                }
            }
            #expect(throws: ImageError.self) { try JPEGDecoder.decode(Array(file.dropLast(1))) }
        }
    }

    @Test("corrupted bytes: an error or a well-formed image, never a crash")
    func corruption() throws {
        let file = try TestSupport.fixture("progressive.jpg")
        var seed: UInt64 = 42
        var rejected = 0, total = 0
        for pos in 2..<file.count {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            var bad = file
            bad[pos] ^= UInt8(truncatingIfNeeded: seed >> 56) | 1
            total += 1
            do {
                let d = try JPEGDecoder.decode(bad)
                #expect(d.image.pixels.count == d.image.width * d.image.height * 3)
            } catch {
                rejected += 1
            }
        }
        // Header and marker damage is always caught; flips inside entropy-coded data
        // can decode to different but valid coefficients, which no decoder can detect.
        #expect(rejected > total / 4, "\(rejected) of \(total) corruptions rejected")
    }

    @Test("empty, PNG, GIF, text and SOI-only inputs give clear errors")
    func notJPEG() throws {
        #expect(throws: ImageError.empty) { try JPEGDecoder.decode([UInt8]()) }
        do {
            _ = try JPEGDecoder.decode(try TestSupport.fixture("tiny.png"))
            Issue.record("PNG accepted")
        } catch { #expect("\(error)".contains("PNG")) }
        do {
            _ = try JPEGDecoder.decode(try TestSupport.fixture("tiny.gif"))
            Issue.record("GIF accepted")
        } catch { #expect("\(error)".contains("GIF")) }
        do {
            _ = try JPEGDecoder.decode(Array("hello, world".utf8))
            Issue.record("text accepted")
        } catch { #expect(error == .notJPEG("missing SOI marker FF D8 (first bytes: 68 65 6C 6C)")) }
        #expect(throws: ImageError.self) { try JPEGDecoder.decode([0xFF]) }
        #expect(throws: ImageError.self) { try JPEGDecoder.decode([0xFF, 0xD8]) }
        #expect(throws: ImageError.self) { try JPEGDecoder.decode([0xFF, 0xD8, 0xFF, 0xD9]) }
    }

    @Test("malformed EXIF never throws or reads out of bounds; it yields topLeft")
    func malformedEXIF() {
        func tiff(_ bytes: [UInt8]) -> ImageOrientation? {
            bytes.withUnsafeBytes { JPEGMetadata.exifOrientation(tiff: $0) }
        }
        let good: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]
        #expect(tiff(good) == .rightTop)
        // Every truncation of a valid block fails safely.
        for n in 0..<good.count { #expect(tiff(Array(good.prefix(n))) == nil) }
        var bad = good; bad[7] = 200                 // IFD offset past the end
        #expect(tiff(bad) == nil)
        bad = good; bad[8] = 0xFF; bad[9] = 0xFF     // 65535 entries declared, only one present
        #expect(tiff(bad) == .rightTop)              // the present entry is still read...
        bad[11] = 0x13                               // ...and without it the walk stops at the end
        #expect(tiff(bad) == nil)
        bad = good; bad[19] = 9                      // orientation 9 is invalid
        #expect(tiff(bad) == nil)
        bad = good; bad[13] = 4                      // wrong type (LONG)
        #expect(tiff(bad) == nil)
        bad = good; bad[4] = 0xFF; bad[5] = 0xFF; bad[6] = 0xFF; bad[7] = 0xFF  // offset 4 GiB
        #expect(tiff(bad) == nil)
        #expect(tiff([0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0]) == .bottomRight)

        // An APP1 whose length runs past the file: the scan stops, libjpeg reports the damage.
        let app1: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xF0, 0x45, 0x78, 0x69, 0x66, 0, 0, 0x4D, 0x4D]
        #expect(JPEGMetadata.scan(app1) == JPEGMetadata())
        #expect(throws: ImageError.self) { try JPEGDecoder.decode(app1) }
    }
}

extension JPEGDecoderTests {
    @Test("random marker soup: metadata scan and decode never trap")
    func markerSoup() {
        var seed: UInt64 = 2026
        func next() -> UInt8 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: seed >> 56) }
        let markers: [UInt8] = [0xE1, 0xEE, 0xDB, 0xC0, 0xC2, 0xC4, 0xDA, 0xD9, 0xDD, 0xFF, 0xD0, 0x01]
        for _ in 0..<3000 {
            var b: [UInt8] = [0xFF, 0xD8]
            for _ in 0..<Int(next() % 6) {
                b += [0xFF, markers[Int(next()) % markers.count]]
                let len = Int(next() % 40)
                b += [0, UInt8(len)]
                if next() & 1 == 0 { b += Array("Exif".utf8) + [0, 0] + (next() & 1 == 0 ? [0x49, 0x49, 42, 0] : [0x4D, 0x4D, 0, 42]) }
                for _ in 0..<Int(next() % 40) { b.append(next()) }
            }
            let meta = JPEGMetadata.scan(b)
            #expect((1...8).contains(meta.orientation.rawValue))
            #expect(throws: ImageError.self) { try JPEGDecoder.decode(b) }
        }
    }
}

@Suite("raw RGB input")
struct RawImageTests {
    @Test("stride and size validation")
    func validation() throws {
        #expect(throws: ImageError.self) { try RawImage.fromRawRGB(width: 0, height: 2, stride: 6, bytes: []) }
        #expect(throws: ImageError.self) { try RawImage.fromRawRGB(width: 2, height: 2, stride: 5, bytes: .init(repeating: 0, count: 12)) }
        #expect(throws: ImageError.self) { try RawImage.fromRawRGB(width: 2, height: 2, stride: 8, bytes: .init(repeating: 0, count: 13)) }
        #expect(throws: ImageError.self) { try RawImage.fromRawRGB(width: 2, height: 2, stride: .max, bytes: .init(repeating: 0, count: 14)) }
        #expect(throws: ImageError.self) { try RawImage.fromRawRGB(width: 40_000, height: 1, stride: 120_000, bytes: .init(repeating: 0, count: 120_000)) }
        #expect(throws: ImageError.self) {
            try RawImage.fromRawRGB(width: 10, height: 10, stride: 30, bytes: .init(repeating: 0, count: 300), limits: ImageLimits(maxPixels: 99))
        }
    }

    @Test("padded rows are copied without padding; the last row need not be padded")
    func padded() throws {
        // 2x2, stride 8: row 0 = 1..6 + 2 pad bytes, row 1 = 11..16 (no trailing pad).
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 99, 99, 11, 12, 13, 14, 15, 16]
        let img = try RawImage.fromRawRGB(width: 2, height: 2, stride: 8, bytes: bytes)
        #expect(img.pixels == [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16])
        let tight = try RawImage.fromRawRGB(width: 2, height: 2, stride: 6, bytes: img.pixels)
        #expect(tight == img)
    }
}

@Suite("JPEG encoding")
struct JPEGEncoderTests {
    @Test("encode then decode round-trips with high PSNR")
    func roundTrip() throws {
        var img = RGBImage(width: 67, height: 45)
        for y in 0..<45 { for x in 0..<67 {
            let i = (y * 67 + x) * 3
            img.pixels[i] = UInt8(x * 3); img.pixels[i + 1] = UInt8(y * 5); img.pixels[i + 2] = UInt8((x + y) * 2)
        } }
        for (quality, minPSNR) in [(95, 38.0), (75, 30.0)] {
            let jpeg = try JPEGEncoder.encode(img, quality: quality)
            #expect(jpeg.starts(with: [0xFF, 0xD8]) && jpeg.suffix(2) == [0xFF, 0xD9])
            let back = try JPEGDecoder.decode(jpeg)
            #expect(back.image.width == 67 && back.image.height == 45)
            let psnr = TestSupport.psnr(back.image.pixels, img.pixels)
            #expect(psnr > minPSNR, "quality \(quality): PSNR \(psnr)")
        }
        if let url = TestSupport.utkfaceImages(1).first, let bytes = TestSupport.read(url) {
            let photo = try JPEGDecoder.decode(bytes).image
            let back = try JPEGDecoder.decode(try JPEGEncoder.encode(photo, quality: 90)).image
            #expect(TestSupport.psnr(back.pixels, photo.pixels) > 35)
        }
    }

    @Test("bad quality or empty image is an invalid argument")
    func badArguments() {
        #expect(throws: ImageError.self) { try JPEGEncoder.encode(RGBImage(width: 2, height: 2), quality: 0) }
        #expect(throws: ImageError.self) { try JPEGEncoder.encode(RGBImage(width: 2, height: 2), quality: 101) }
        #expect(throws: ImageError.self) { try JPEGEncoder.encode(RGBImage(width: 0, height: 0), quality: 90) }
        var short = RGBImage(width: 4, height: 4)
        short.pixels.removeLast(3)  // pixels is a public var: the encoder must not read past it
        #expect(throws: ImageError.self) { try JPEGEncoder.encode(short, quality: 90) }
    }
}
