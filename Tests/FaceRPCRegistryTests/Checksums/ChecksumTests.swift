import Testing
@testable import FaceRPCRegistry

@Suite struct CRC32Tests {
    @Test func checkValue() {
        // The standard CRC-32 check value (zlib, PNG, gzip).
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func continuationMatchesOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let whole = CRC32.checksum(bytes)
        for split in [1, 7, 8, 9, 500, 999] {
            let first = CRC32.checksum(Array(bytes[..<split]))
            #expect(CRC32.checksum(Array(bytes[split...]), continuing: first) == whole, "split at \(split)")
        }
    }

    @Test func everySingleBitFlipChangesTheChecksum() {
        var bytes = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 29) }
        let original = CRC32.checksum(bytes)
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                bytes[i] ^= 1 << bit
                #expect(CRC32.checksum(bytes) != original)
                bytes[i] ^= 1 << bit
            }
        }
    }
}
