import FaceRPCImage

extension GrayImage {
    /// The grayscale image dlib derives from an RGB one: each pixel is
    /// `(r + g + b) / 3` in integer arithmetic (truncating), which is dlib's
    /// `assign_pixel(unsigned char&, rgb_pixel)` and therefore also what
    /// `shape_predictor` reads from an RGB image (`get_pixel_intensity`).
    /// It is not a luma conversion: the channels are weighted equally.
    public init(dlibGrayscaleOf image: RGBImage) {
        let count = image.width * image.height
        var gray = [UInt8](repeating: 0, count: count)
        image.pixels.withUnsafeBufferPointer { rgb in
            gray.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    let sum = UInt16(rgb[3 * i]) + UInt16(rgb[3 * i + 1]) + UInt16(rgb[3 * i + 2])
                    out[i] = UInt8(truncatingIfNeeded: sum / 3)
                }
            }
        }
        self.init(width: image.width, height: image.height, pixels: gray)
    }
}

extension ShapePredictor {
    /// Predicts landmarks on an RGB image, reading pixels as dlib does for an
    /// `rgb_pixel` image (see ``GrayImage/init(dlibGrayscaleOf:)``). Same
    /// result as dlib's `shape_predictor` called with the RGB array.
    ///
    /// Converts the whole image; to predict several faces in one image,
    /// convert once with ``FaceRPCImage/GrayImage/init(dlibGrayscaleOf:)`` and
    /// call the `GrayImage` overload per face.
    public func predict(_ image: RGBImage, box: Rect) -> [Point2] {
        predict(GrayImage(dlibGrayscaleOf: image), box: box)
    }

    /// The RGB counterpart of the `GrayImage` `predictSubpixel(_:box:)`: no final rounding.
    public func predictSubpixel(_ image: RGBImage, box: Rect) -> [Point2] {
        predictSubpixel(GrayImage(dlibGrayscaleOf: image), box: box)
    }
}
