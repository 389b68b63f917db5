/// The character rules for names that become folder names on the server's
/// disk (models, model versions, training jobs), kept in one place so the
/// registry and the trainer cannot drift apart. None admits `/`, `\`, NUL,
/// or a name that is `.` or contains `..`.
public enum FolderNames {
    /// A model name: 1...`maxBytes` of lower-case letters, digits, `-`, `_`,
    /// `.`, starting with a letter or digit (so never `.`/`..`).
    public static func isModelName(_ name: String, maxBytes: Int = 64) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...maxBytes).contains(bytes.count) else { return false }
        func isLowerAlnum(_ b: UInt8) -> Bool { (0x61...0x7a).contains(b) || (0x30...0x39).contains(b) }
        return isLowerAlnum(bytes[0]) && bytes.allSatisfy { isLowerAlnum($0) || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e }
    }

    /// 1...`maxBytes` of letters, digits, `-`, `_`, `.` (may be `.` or hold `..`;
    /// see ``isPathSafeIdentifier(_:maxBytes:)`` for folder names).
    public static func isIdentifier(_ s: String, maxBytes: Int = 64) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...maxBytes).contains(bytes.count) else { return false }
        return bytes.allSatisfy {
            (0x61...0x7a).contains($0) || (0x41...0x5a).contains($0) || (0x30...0x39).contains($0)
                || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e
        }
    }

    /// An identifier that is safe as one folder name: not `.` and no `..`.
    public static func isPathSafeIdentifier(_ s: String, maxBytes: Int = 64) -> Bool {
        isIdentifier(s, maxBytes: maxBytes) && s != "." && !s.contains("..")
    }
}
