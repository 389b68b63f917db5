// Reader for dlib's portable binary serialization format (dlib/serialize.h),
// just the parts a `shape_predictor` file uses: integers, floats, std::vector
// lengths and dlib::matrix headers.
//
// Integers: one control byte, then 1 to 8 little-endian magnitude bytes. The
// control byte's low nibble is the byte count; bit 0x80 marks a negative value
// (signed types only; for unsigned types a set 0x80 makes the count too large,
// which dlib reports as an error). Bits 0x70 are reserved and ignored.
//
// Floats: a signed 64-bit mantissa then a signed 16-bit exponent, both as
// integers above; the value is `Float(mantissa) * 2^exponent`, with exponents
// 32000, 32001 and 32002 standing for +inf, -inf and NaN. dlib's older ASCII
// float encoding (recognised by a first byte with any of bits 0x70 set) is
// rejected: no shipped shape predictor uses it.

/// Why a dlib-serialized file could not be read.
public struct DlibDeserializationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or read.
        case io
        /// The data ended before the object did.
        case truncated
        /// An integer's control byte or value is invalid for its type.
        case malformedInteger
        /// A float uses dlib's legacy ASCII encoding, or is not finite where a finite value is required.
        case malformedFloat
        /// The object's version tag is not one this reader understands.
        case unsupportedVersion
        /// A count or size exceeds a named limit (see ``ShapePredictorLimits``).
        case limitExceeded
        /// The parts decode but do not form a valid object (mismatched sizes, out-of-range indices).
        case inconsistent
        /// Bytes remain after the object.
        case trailingBytes
    }

    public var kind: Kind
    /// Byte offset in the input where the problem was found (0 for I/O errors).
    public var offset: Int
    public var message: String

    public init(_ kind: Kind, offset: Int, _ message: String) {
        self.kind = kind
        self.offset = offset
        self.message = message
    }

    public var description: String { "dlib deserialization error at byte \(offset): \(message)" }
}

/// A forward-only cursor over dlib-serialized bytes. Every read checks bounds
/// first; nothing here traps on malformed input.
struct DlibDecoder {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    /// Reads an integer's control byte and magnitude. `maxBytes` is the
    /// declared type's size; `signed` says whether bit 0x80 means negative.
    @inline(__always)
    private mutating func readMagnitude(maxBytes: Int, signed: Bool, what: StaticString) throws(DlibDeserializationError) -> (negative: Bool, magnitude: UInt64) {
        let start = offset
        guard offset < bytes.count else {
            throw DlibDeserializationError(.truncated, offset: start, "data ends before \(what)")
        }
        let control = bytes[offset]
        let negative = signed && (control & 0x80) != 0
        // Unsigned decoding keeps bit 0x80 in the count, so a "negative"
        // unsigned value fails the size check below, as it does in dlib.
        let count = Int(signed ? control & 0x0F : control & 0x8F)
        guard count >= 1, count <= maxBytes else {
            throw DlibDeserializationError(.malformedInteger, offset: start, "invalid integer control byte 0x\(String(control, radix: 16)) for \(what)")
        }
        guard count <= bytes.count - offset - 1 else {
            throw DlibDeserializationError(.truncated, offset: start, "data ends inside \(what)")
        }
        var magnitude: UInt64 = 0
        var i = count
        while i > 0 {
            magnitude = (magnitude << 8) | UInt64(bytes[offset + i])
            i -= 1
        }
        offset += count + 1
        return (negative, magnitude)
    }

    /// dlib `unsigned long` (64-bit on the platforms that wrote these files).
    mutating func readUInt64(_ what: StaticString) throws(DlibDeserializationError) -> UInt64 {
        try readMagnitude(maxBytes: 8, signed: false, what: what).magnitude
    }

    /// A signed integer of `byteWidth` bytes (4 for `int`, 8 for `long`/`int64`, 2 for `int16`).
    mutating func readSigned(byteWidth: Int, _ what: StaticString) throws(DlibDeserializationError) -> Int64 {
        let start = offset
        let (negative, magnitude) = try readMagnitude(maxBytes: byteWidth, signed: true, what: what)
        // dlib would wrap silently; a magnitude outside the type is corruption.
        let limit: UInt64 = byteWidth >= 8 ? UInt64(Int64.max) : (UInt64(1) << UInt64(byteWidth * 8 - 1)) - 1
        guard magnitude <= limit else {
            throw DlibDeserializationError(.malformedInteger, offset: start, "\(what) does not fit in \(byteWidth * 8) bits")
        }
        let value = Int64(magnitude)
        return negative ? -value : value
    }

    /// A dlib float. Non-finite values are rejected: nothing in a shape
    /// predictor may be infinite or NaN.
    @inline(__always)
    mutating func readFiniteFloat(_ what: StaticString) throws(DlibDeserializationError) -> Float {
        let start = offset
        guard offset < bytes.count else {
            throw DlibDeserializationError(.truncated, offset: start, "data ends before \(what)")
        }
        guard bytes[offset] & 0x70 == 0 else {
            throw DlibDeserializationError(.malformedFloat, offset: start, "\(what) uses dlib's legacy ASCII float encoding, which is not supported")
        }
        let mantissa = try readSigned(byteWidth: 8, what)
        let exponent = try readSigned(byteWidth: 2, what)
        guard exponent < 32000 else {
            throw DlibDeserializationError(.malformedFloat, offset: start, "\(what) is not finite")
        }
        // dlib converts the mantissa to the target type first, then scales
        // by 2^exponent (std::ldexp); this is the same two roundings.
        let value = Float(sign: .plus, exponent: Int(exponent), significand: Float(mantissa))
        guard value.isFinite else {
            throw DlibDeserializationError(.malformedFloat, offset: start, "\(what) overflows a float")
        }
        return value
    }

    /// A `std::vector` length, checked against `limit` and against the bytes
    /// left (each element takes at least `minBytesPerElement`), so a corrupt
    /// length can never cause a large allocation.
    mutating func readCount(_ what: StaticString, limit: Int, minBytesPerElement: Int) throws(DlibDeserializationError) -> Int {
        let start = offset
        let raw = try readUInt64(what)
        guard raw <= UInt64(limit) else {
            throw DlibDeserializationError(.limitExceeded, offset: start, "\(what) is \(raw), above the limit of \(limit)")
        }
        let count = Int(raw)
        guard count <= remaining / max(1, minBytesPerElement) else {
            throw DlibDeserializationError(.truncated, offset: start, "\(what) is \(count) but only \(remaining) bytes remain")
        }
        return count
    }

    /// A `dlib::matrix<float,0,1>` (column vector) header: rows and columns
    /// as negated `long`s (dlib's newer header; the older positive form is
    /// accepted too). Returns the row count, checked against `limit` and
    /// against the bytes left.
    mutating func readColumnHeader(_ what: StaticString, limit: Int) throws(DlibDeserializationError) -> Int {
        let start = offset
        let rows = try readSigned(byteWidth: 8, what).magnitude
        let cols = try readSigned(byteWidth: 8, what).magnitude
        guard cols == 1 || rows == 0 else {
            throw DlibDeserializationError(.inconsistent, offset: start, "\(what) has \(cols) columns, expected a column vector")
        }
        guard rows <= UInt64(limit) else {
            throw DlibDeserializationError(.limitExceeded, offset: start, "\(what) has \(rows) rows, above the limit of \(limit)")
        }
        let count = Int(rows)
        // A float takes at least four bytes (two integers of at least two bytes each).
        guard count <= remaining / 4 else {
            throw DlibDeserializationError(.truncated, offset: start, "\(what) has \(count) rows but only \(remaining) bytes remain")
        }
        return count
    }

    /// A `dlib::matrix<float,0,1>`: header, then the elements in order.
    mutating func readFloatColumn(_ what: StaticString, limit: Int) throws(DlibDeserializationError) -> [Float] {
        let count = try readColumnHeader(what, limit: limit)
        var values = [Float]()
        values.reserveCapacity(count)
        for _ in 0..<count {
            values.append(try readFiniteFloat(what))
        }
        return values
    }
}
