import FaceRPCImage
import FaceRPCKernels

/// Pixel normalisation: `(byte − mean[c]) · scale` per RGB channel.
public struct Normalization: Sendable, Equatable {
    /// Per-channel means, R, G, B (3 values).
    public var mean: [Float]
    public var scale: Float

    public init(mean: [Float], scale: Float) {
        self.mean = mean
        self.scale = scale
    }

    /// The pretrained Levi-Hassner models' values (FaceRPCRegistry's `TrainableModels`).
    public static let leviHassner = Normalization(mean: [122.781998, 117.000999, 104.297997], scale: 0.00390625)
}

/// Where a 227 × 227 crop sits in the 256 × 256 resized image (top-left corner,
/// pixels) and whether it is mirrored left to right.
public struct CropParameters: Sendable, Equatable, Hashable {
    public var x: Int
    public var y: Int
    public var flip: Bool

    public init(x: Int, y: Int, flip: Bool) {
        self.x = x
        self.y = y
        self.flip = flip
    }
}

/// Levi & Hassner's augmentation: every image is resized to 256 × 256 (aspect
/// not kept; the face chips are square), then a 227 × 227 crop is taken —
/// at a random offset and randomly mirrored for training, centred and not
/// mirrored for evaluation — and written as planar normalised floats.
enum Augmentation {
    static let resizedSide = 256
    static let cropSide = 227
    /// Largest crop offset: 256 − 227.
    static let maxOffset = resizedSide - cropSide
    /// `(256 − 227) / 2` rounded down, as TensorFlow's centre crop (`resize_image_with_crop_or_pad`).
    static let centreOffset = maxOffset / 2
    /// Floats per sample: 3 planes of 227 × 227.
    static let sampleFloats = 3 * cropSide * cropSide

    static let evaluation = CropParameters(x: centreOffset, y: centreOffset, flip: false)

    /// The random crop of sample `slot` of global batch `batch`: a pure function
    /// of its arguments, so any worker computes the same one. Offsets are
    /// uniform in 0...29, the flip a fair coin.
    static func training(seed: UInt64, batch: Int, slot: Int) -> CropParameters {
        let key = SeededShuffle.mix(SeededShuffle.mix(seed, UInt64(bitPattern: Int64(batch))), UInt64(slot))
        var rng = SplitMix64(seed: key)
        let x = SeededShuffle.below(maxOffset + 1, &rng)
        let y = SeededShuffle.below(maxOffset + 1, &rng)
        let flip = rng.next() >> 63 == 1
        return CropParameters(x: x, y: y, flip: flip)
    }

    /// `table[256 · c + v] = (v − mean[c]) · scale`: one multiply per value at
    /// table-build time instead of per pixel, with the same rounding.
    static func lookupTable(_ normalization: Normalization) -> [Float] {
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 { table[256 * c + v] = (Float(v) - normalization.mean[c]) * normalization.scale }
        }
        return table
    }

    /// `image` resized to 256 × 256 with FaceRPCImage's bilinear resize
    /// (half-pixel centres, rounded to bytes); a 256 × 256 image is returned as is
    /// (the resize would be the identity).
    static func resized(_ image: RGBImage) -> RGBImage {
        if image.width == resizedSide && image.height == resizedSide { return image }
        return ImageOps.resizeBilinear(image, width: resizedSide, height: resizedSide)
    }

    /// Writes the crop of a 256 × 256 `image` into `dst` (``sampleFloats``
    /// floats, planes R, G, B, rows top to bottom): output pixel (x, y) is
    /// source pixel (crop.x + x, crop.y + y), or (crop.x + 226 − x, crop.y + y) when flipped.
    /// - Precondition: `image` is 256 × 256 and the crop lies inside it.
    static func render(
        _ image: RGBImage, crop: CropParameters, table: UnsafeBufferPointer<Float>, into dst: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(image.width == resizedSide && image.height == resizedSide && dst.count >= sampleFloats)
        precondition((0...maxOffset).contains(crop.x) && (0...maxOffset).contains(crop.y))
        let plane = cropSide * cropSide
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<cropSide {
                let row = 3 * ((crop.y + y) * resizedSide + crop.x)
                let out = y * cropSide
                for x in 0..<cropSide {
                    let s = row + 3 * (crop.flip ? cropSide - 1 - x : x)
                    dst[out + x] = table[Int(src[s])]
                    dst[plane + out + x] = table[256 + Int(src[s + 1])]
                    dst[2 * plane + out + x] = table[512 + Int(src[s + 2])]
                }
            }
        }
    }
}
