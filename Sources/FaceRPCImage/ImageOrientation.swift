/// The EXIF/TIFF orientation tag (0x0112): how the stored pixels must be
/// transformed to be displayed upright. Raw values are the tag's values 1–8;
/// case names say where the stored image's row 0 and column 0 belong visually.
public enum ImageOrientation: Int, Sendable, CaseIterable {
    /// 1: stored upright.
    case topLeft = 1
    /// 2: mirrored left–right.
    case topRight = 2
    /// 3: rotated 180°.
    case bottomRight = 3
    /// 4: mirrored top–bottom.
    case bottomLeft = 4
    /// 5: transposed (mirrored about the main diagonal).
    case leftTop = 5
    /// 6: display after rotating 90° clockwise.
    case rightTop = 6
    /// 7: transversed (mirrored about the anti-diagonal).
    case rightBottom = 7
    /// 8: display after rotating 90° counter-clockwise.
    case leftBottom = 8

    /// Whether displaying swaps width and height.
    public var swapsDimensions: Bool { rawValue >= 5 }

    /// Returns `image` transformed to display upright: the output pixel (x, y)
    /// is the input pixel this orientation places there.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .topLeft { return image }
        image.requireConsistent("ImageOrientation.apply")
        let w = image.width, h = image.height
        let outW = swapsDimensions ? h : w
        let outH = swapsDimensions ? w : h
        // Source offset of output (0, 0) and the source steps (in bytes) for
        // x+1 and y+1 in the output: every orientation is such an affine walk.
        let row = 3 * w
        let (start, dx, dy): (Int, Int, Int) = switch self {
        case .topLeft: (0, 3, row)
        case .topRight: (3 * (w - 1), -3, row)
        case .bottomRight: (row * (h - 1) + 3 * (w - 1), -3, -row)
        case .bottomLeft: (row * (h - 1), 3, -row)
        case .leftTop: (0, row, 3)
        case .rightTop: (row * (h - 1), -row, 3)
        case .rightBottom: (row * (h - 1) + 3 * (w - 1), -row, -3)
        case .leftBottom: (3 * (w - 1), row, -3)
        }
        if w == 0 || h == 0 { return RGBImage(width: outW, height: outH) }
        let pixels = [UInt8](unsafeUninitializedCapacity: outW * outH * 3) { out, initialized in
            image.pixels.withUnsafeBufferPointer { src in
                // 64×64 tiles keep the strided side of a rotation within the cache
                // (row-at-a-time was 3× slower on a 12 MP photo).
                let tile = 64
                for ty in stride(from: 0, to: outH, by: tile) {
                    for tx in stride(from: 0, to: outW, by: tile) {
                        for y in ty..<min(ty + tile, outH) {
                            var o = (y * outW + tx) * 3
                            var s = start + y * dy + tx * dx
                            for _ in tx..<min(tx + tile, outW) {
                                out[o] = src[s]
                                out[o + 1] = src[s + 1]
                                out[o + 2] = src[s + 2]
                                o += 3
                                s += dx
                            }
                        }
                    }
                }
            }
            initialized = outW * outH * 3
        }
        return RGBImage(width: outW, height: outH, pixels: pixels)
    }
}
