/// An 8-bit RGB colour for drawing.
public struct RGBColor: Sendable, Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(r: UInt8, g: UInt8, b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let red = RGBColor(r: 230, g: 40, b: 40)
    public static let green = RGBColor(r: 40, g: 220, b: 60)
    public static let blue = RGBColor(r: 40, g: 90, b: 240)
    public static let yellow = RGBColor(r: 250, g: 220, b: 30)
    public static let white = RGBColor(r: 255, g: 255, b: 255)
    public static let black = RGBColor(r: 0, g: 0, b: 0)
}

/// Annotation drawing (`--annotate`): rectangle outlines and labels in a built-in
/// 5×7 bitmap font. Everything is clipped to the image; coordinates may lie
/// partly or wholly outside it (non-finite ones draw nothing).
extension RGBImage {
    /// Fills the axis-aligned pixel block [x, x + width) × [y, y + height), clipped.
    public mutating func fill(x: Int, y: Int, width: Int, height: Int, color: RGBColor) {
        requireConsistent("RGBImage.fill")
        let x0 = max(x, 0), y0 = max(y, 0)
        let x1 = min(x.addingSaturating(width), self.width), y1 = min(y.addingSaturating(height), self.height)
        guard x0 < x1, y0 < y1 else { return }
        let w = self.width
        pixels.withUnsafeMutableBufferPointer { p in
            for yy in y0..<y1 {
                var o = (yy * w + x0) * 3
                for _ in x0..<x1 {
                    p[o] = color.r; p[o + 1] = color.g; p[o + 2] = color.b
                    o += 3
                }
            }
        }
    }

    /// Draws the outline of `rect` (pixels, rounded to the nearest edge),
    /// `thickness` pixels wide, inside the rectangle.
    public mutating func drawRectangle(_ rect: Rect, color: RGBColor, thickness: Int = 2) {
        guard rect.x.isFinite, rect.y.isFinite, rect.width.isFinite, rect.height.isFinite, thickness > 0 else { return }
        func px(_ v: Double) -> Int { Int(min(max(v, -1e9), 1e9).rounded()) }
        let x0 = px(rect.x), y0 = px(rect.y)
        let x1 = px(rect.x + rect.width), y1 = px(rect.y + rect.height)
        guard x1 > x0, y1 > y0 else { return }
        let t = min(thickness, (x1 - x0 + 1) / 2, (y1 - y0 + 1) / 2)
        fill(x: x0, y: y0, width: x1 - x0, height: t, color: color)
        fill(x: x0, y: y1 - t, width: x1 - x0, height: t, color: color)
        fill(x: x0, y: y0, width: t, height: y1 - y0, color: color)
        fill(x: x1 - t, y: y0, width: t, height: y1 - y0, color: color)
    }

    /// Draws `text` with its top-left corner at (x, y), each font pixel a
    /// `scale` × `scale` block; with `background`, the text box is filled first
    /// (one font pixel of margin). Lower-case letters render as capitals;
    /// characters the font lacks render as `?`. Newlines start a new line.
    public mutating func drawText(_ text: String, x: Int, y: Int, color: RGBColor,
                                  background: RGBColor? = nil, scale: Int = 2) {
        let s = max(1, min(scale, 64))
        if let background {
            let size = BitmapFont.textSize(text, scale: s)
            fill(x: x - s, y: y - s, width: size.width + 2 * s, height: size.height + 2 * s, color: background)
        }
        var cx = x, cy = y
        for ch in text {
            if ch == "\n" { cx = x; cy += BitmapFont.lineHeight * s; continue }
            let rows = BitmapFont.glyph(ch)
            for (r, bits) in rows.enumerated() where bits != 0 {
                for c in 0..<BitmapFont.glyphWidth where bits & (0x10 >> c) != 0 {
                    fill(x: cx + c * s, y: cy + r * s, width: s, height: s, color: color)
                }
            }
            cx += BitmapFont.advance * s
        }
    }
}

/// The built-in 5×7 font: digits, capitals and common punctuation.
public enum BitmapFont {
    public static let glyphWidth = 5, glyphHeight = 7
    /// Horizontal distance between characters and vertical distance between lines, in font pixels.
    public static let advance = 6, lineHeight = 9

    /// Pixel size of `text` drawn at `scale` (no background margin).
    public static func textSize(_ text: String, scale: Int) -> (width: Int, height: Int) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let longest = lines.map(\.count).max() ?? 0
        let width = longest == 0 ? 0 : (longest * advance - 1) * scale
        return (width, ((lines.count - 1) * lineHeight + glyphHeight) * scale)
    }

    /// Seven row bitmasks (bit 4 = leftmost column) for `ch`.
    static func glyph(_ ch: Character) -> [UInt8] {
        // uppercased() can lengthen ("ß" -> "SS"): only a one-character result is looked up.
        let upper = ch.uppercased()
        guard upper.count == 1, let glyph = glyphs[Character(upper)] else { return glyphs["?"]! }
        return glyph
    }

    private static let glyphs: [Character: [UInt8]] = [
        " ": [0, 0, 0, 0, 0, 0, 0],
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "A": [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11], "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], "D": [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        "E": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        "G": [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], "H": [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], "J": [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], "N": [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        "O": [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        "Q": [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], "T": [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        "U": [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "V": [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        "W": [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        "Y": [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04], "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        ".": [0, 0, 0, 0, 0, 0x0C, 0x0C], ",": [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        ":": [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0], "-": [0, 0, 0, 0x1F, 0, 0, 0],
        "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], "/": [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
        "?": [0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04], "!": [0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04],
        "=": [0, 0, 0x1F, 0, 0x1F, 0, 0], "+": [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0],
        "_": [0, 0, 0, 0, 0, 0, 0x1F], "'": [0x04, 0x04, 0x08, 0, 0, 0, 0],
        "#": [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A], "<": [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
        ">": [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
    ]
}

extension Int {
    fileprivate func addingSaturating(_ other: Int) -> Int {
        let (r, o) = addingReportingOverflow(other)
        return o ? (other > 0 ? .max : .min) : r
    }
}
