import FaceRPCKernels

/// One training example: a confined image path and its class index.
public struct LabeledExample: Sendable, Hashable {
    /// Absolute real path, inside the data root.
    public var path: String
    /// Class index: gender 0 = female, 1 = male; age 0...7 (``Dataset/ageBucketLabels``).
    public var label: Int32

    public init(path: String, label: Int32) {
        self.path = path
        self.label = label
    }
}

/// What ``Dataset/load(_:root:task:)`` found.
public struct DatasetSummary: Sendable {
    /// The usable examples, in file order (CSV) or sorted by name (folders).
    public var examples: [LabeledExample]
    /// Rows or files left out: ``unlabeled`` + ``bad``.
    public var skipped: Int
    /// `"csv"`, `"utkface-names"` or `"class-folders"`.
    public var layout: String
    /// Data rows (CSV, blank lines not counted) or candidate image files (folders) seen.
    public var rows: Int
    /// Skipped because the label for the task was empty (e.g. a blank gender cell).
    public var unlabeled: Int
    /// Skipped because unusable: garbage or negative label, missing file, malformed name.
    public var bad: Int
    /// The first few (``Dataset/Limits/maxReportedProblems``) bad entries, described.
    public var problems: [String]
    /// Examples per class index.
    public var classCounts: [Int]

    public init(examples: [LabeledExample], skipped: Int, layout: String, rows: Int = 0, unlabeled: Int = 0,
                bad: Int = 0, problems: [String] = [], classCounts: [Int] = []) {
        self.examples = examples; self.skipped = skipped; self.layout = layout; self.rows = rows
        self.unlabeled = unlabeled; self.bad = bad; self.problems = problems; self.classCounts = classCounts
    }
}

/// Dataset layouts, label mapping and the train/validation split.
///
/// Layouts (the first that applies wins; see docs/TRAINING-DATA.md):
/// 1. a `.csv` file with a header naming `path` and `age` and/or `gender`
///    (case-insensitive; other columns such as `source_repo` are ignored; fields
///    may be double-quoted with `""` for a quote, but not span lines; LF or CRLF;
///    a UTF-8 BOM is ignored). `path` is relative to the CSV's folder.
///    Gender cells: `female`/`f`/`woman`/`women` → 0, `male`/`m`/`man`/`men` → 1,
///    and the UTKFace digits `0` = male → 1, `1` = female → 0. Age cells: years
///    (integer or decimal, 0...``Limits/maxAge``) or a bucket label (`25-32`, `(25, 32)`).
///    An empty cell means "no label for this task" (skipped, counted in `unlabeled`).
/// 2. a folder holding class folders for the task: gender `female/` `male/`
///    (also `f`, `woman`, `women` / `m`, `man`, `men`); age one folder per bucket
///    named `0-2` ... `60-100` (or `(0, 2)` ..., or the index `0` ... `7`).
///    The `.jpg`/`.jpeg` files directly inside each class folder are the examples.
/// 3. a folder of UTKFace-style names `AGE_GENDER_RACE_DATE.jpg...` (RACE one digit), e.g.
///    `100_1_0_20170110183726390.jpg.chip.jpg` (gender digit: 0 = male, 1 = female).
/// Hidden entries (names starting with `.`) are ignored.
public enum Dataset {
    public enum Limits {
        /// Largest CSV file read, in bytes (checked before reading).
        public static let maxCSVBytes = 64 << 20
        /// Longest CSV line, in bytes without the line ending; a longer one refuses the dataset.
        public static let maxLineBytes = 4096
        /// Most examples one dataset may have.
        public static let maxExamples = 1_000_000
        /// Most entries read from one folder (the dataset folder or one class folder).
        public static let maxFolderEntries = 1_000_000
        /// Bad rows are skipped while there are at most this many of them ...
        public static let badRowsAlwaysTolerated = 10
        /// ... or while they are at most this fraction of the rows; beyond both,
        /// the whole dataset is refused (``TrainingDataError/tooManyBadRows(path:bad:total:example:)``).
        public static let maxBadRowFraction = 0.1
        /// Oldest age accepted, in years; an older one is a bad row (ages over 100 go to 60-100).
        public static let maxAge = 150.0
        /// How many bad entries ``DatasetSummary/problems`` describes.
        public static let maxReportedProblems = 5
    }

    /// The 8 Levi-Hassner (Adience) age buckets, in class order.
    public static let ageBucketLabels = ["0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100"]
    /// Inclusive year ranges of ``ageBucketLabels``.
    public static let ageBucketRanges: [ClosedRange<Double>] =
        [0...2, 4...6, 8...12, 15...20, 25...32, 38...43, 48...53, 60...100]
    /// Gender class names, in class order (the pretrained model's order).
    public static let genderLabels = ["female", "male"]

    /// The age bucket (0...7) for `age` years: the bucket containing it, or,
    /// between buckets, the one whose nearest edge is closer; a tie goes to the
    /// younger bucket (3 → 0-2, 7 → 4-6, 35 → 25-32). This reproduces the
    /// UTKFace bucket counts published with the training data (shared/README.md).
    /// Note: FaceRPCPredict's `AgeBuckets` and bench/eval.py break ties the
    /// other way (older); that only matters for ages exactly between two buckets.
    /// Ages over 100 give 7 (60-100); negative ages give 0 (the loaders refuse them first).
    public static func ageBucket(forAge age: Int) -> Int {
        ageBucket(forYears: Double(age))
    }

    /// ``ageBucket(forAge:)`` for fractional years. NaN gives 0.
    public static func ageBucket(forYears years: Double) -> Int {
        var best = 0
        var bestDistance = Double.infinity
        for (index, range) in ageBucketRanges.enumerated() {
            if range.contains(years) { return index }
            let distance = min(abs(years - range.lowerBound), abs(years - range.upperBound))
            // Strict `<`: on a tie the earlier (younger) bucket stays.
            if distance < bestDistance {
                best = index
                bestDistance = distance
            }
        }
        return best
    }

    /// Loads the dataset at `relative` (relative to `root`) for `task`.
    ///
    /// Bad rows (garbage or negative labels, missing files, malformed names)
    /// are skipped and counted; when there are more than
    /// ``Limits/badRowsAlwaysTolerated`` of them *and* more than
    /// ``Limits/maxBadRowFraction`` of the rows, the dataset is refused.
    /// A path that leaves the root (absolute, `..`, a symbolic link out) refuses
    /// the whole dataset, wherever it appears.
    /// - Throws: ``TrainingDataError``, naming paths relative to the root.
    public static func load(_ relative: String, root: DataRoot, task: TrainingTask) throws -> DatasetSummary {
        try load(relative, root: root, task: task, adjust: { _ in })
    }

    /// ``load(_:root:task:)`` with `adjust` applied to the loader first (tests lower its limits).
    static func load(_ relative: String, root: DataRoot, task: TrainingTask,
                     adjust: (inout DatasetLoader) -> Void) throws -> DatasetSummary {
        let real = try root.resolve(relative)
        var loader = DatasetLoader(root: root, display: relative, task: task)
        adjust(&loader)
        switch FileAccess.targetKind(real) {
        case .regular:
            guard relative.lowercased().hasSuffix(".csv") || real.lowercased().hasSuffix(".csv") else {
                throw TrainingDataError.unsupportedLayout(
                    path: relative, reason: "a file must be a .csv with a path,age,gender header; or name a folder")
            }
            try loader.loadCSV(real)
        case .directory:
            try loader.loadFolder(real)
        default:
            throw TrainingDataError.unsupportedLayout(path: relative, reason: "neither a .csv file nor a folder")
        }
        return try loader.finish()
    }

    /// Splits `examples` deterministically: a seeded shuffle (the same seed and
    /// input always give the same result), then the last
    /// `round(count × validationFraction)` examples are the validation set.
    /// `validationFraction` is clamped to 0...1 (NaN counts as 0).
    public static func split(_ examples: [LabeledExample], validationFraction: Double, seed: UInt64)
        -> (train: [LabeledExample], validation: [LabeledExample])
    {
        let fraction = validationFraction.isNaN ? 0 : min(max(validationFraction, 0), 1)
        let order = SeededShuffle.permutation(count: examples.count, seed: SeededShuffle.mix(seed, 0x5EED_5B17))
        let held = Int((Double(examples.count) * fraction).rounded())
        let cut = examples.count - held
        return (order[..<cut].map { examples[$0] }, order[cut...].map { examples[$0] })
    }

    // MARK: Label parsing

    /// Gender cell → class index (0 female, 1 male); nil when unrecognised.
    static func genderClass(_ cell: String) -> Int32? {
        switch cell.lowercased() {
        case "female", "f", "woman", "women", "1": return 0  // "1": UTKFace's female
        case "male", "m", "man", "men", "0": return 1        // "0": UTKFace's male
        default: return nil
        }
    }

    /// Age cell → bucket index; nil when not years in 0...maxAge nor a bucket label.
    static func ageClass(_ cell: String) -> Int32? {
        if let index = bucketIndex(forLabel: cell) { return Int32(index) }
        guard cell.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }),
              let years = Double(cell), years.isFinite, years >= 0, years <= Limits.maxAge else { return nil }
        return Int32(ageBucket(forYears: years))
    }

    /// `25-32`, `(25, 32)`, `25_32` → the bucket's index.
    static func bucketIndex(forLabel label: String) -> Int? {
        let normalised = String(label.unicodeScalars.filter { $0 != "(" && $0 != ")" && $0 != " " })
            .replacingCommaAndUnderscore()
        return ageBucketLabels.firstIndex(of: normalised)
    }

    /// Folder name → class index for `task`.
    static func folderClass(_ name: String, task: TrainingTask) -> Int32? {
        switch task {
        case .gender:
            switch name.lowercased() {
            case "female", "f", "woman", "women": return 0
            case "male", "m", "man", "men": return 1
            default: return nil
            }
        case .age:
            if name.count == 1, let index = Int(name), (0..<8).contains(index) { return Int32(index) }
            return bucketIndex(forLabel: name).map { Int32($0) }
        }
    }

    /// `AGE_GENDER_RACE_DATE...` → (age years, gender digit); nil when the name does not
    /// follow it: AGE 1-3 digits, GENDER `0`/`1`, RACE one digit, then something.
    /// (UTKFace's two malformed names, `61_1_2017...` and `61_3_2017...`, fail.)
    static func utkfaceFields(_ name: String) -> (age: Int, gender: Int)? {
        let parts = name.split(separator: "_", maxSplits: 3, omittingEmptySubsequences: false)
        func digits(_ s: Substring) -> Bool { s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        guard parts.count == 4,
              (1...3).contains(parts[0].utf8.count), digits(parts[0]), let age = Int(parts[0]),
              parts[1] == "0" || parts[1] == "1",
              parts[2].utf8.count == 1, digits(parts[2]), !parts[3].isEmpty else { return nil }
        return (age, parts[1] == "0" ? 0 : 1)
    }

    static func isJPEGName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
    }
}

extension String {
    fileprivate func replacingCommaAndUnderscore() -> String {
        String(unicodeScalars.map { $0 == "," || $0 == "_" ? "-" : Character($0) })
    }
}
