import Foundation
import Testing
@testable import FaceRPCTraining

@Suite("Dataset labels")
struct DatasetLabelTests {
    /// Every age 0...150 and its bucket, written out by hand from the 8 ranges
    /// 0-2, 4-6, 8-12, 15-20, 25-32, 38-43, 48-53, 60-100: between buckets the
    /// nearer edge wins, a tie the younger bucket (3, 7, 35).
    static let ageTable: [(ClosedRange<Int>, Int)] = [
        (0...2, 0), (3...3, 0), (4...6, 1), (7...7, 1), (8...12, 2), (13...13, 2), (14...14, 3), (15...20, 3),
        (21...22, 3), (23...24, 4), (25...32, 4), (33...35, 4), (36...37, 5), (38...43, 5), (44...45, 5),
        (46...47, 6), (48...53, 6), (54...56, 6), (57...59, 7), (60...100, 7), (101...150, 7),
    ]

    @Test("every integer age maps to the bucket in the table (edges and gaps)")
    func ageBuckets() {
        var covered = 0
        for (ages, bucket) in Self.ageTable {
            for age in ages {
                #expect(Dataset.ageBucket(forAge: age) == bucket, "age \(age)")
                covered += 1
            }
        }
        #expect(covered == 151)
        // The bucket edges themselves.
        for (index, range) in Dataset.ageBucketRanges.enumerated() {
            #expect(Dataset.ageBucket(forYears: range.lowerBound) == index)
            #expect(Dataset.ageBucket(forYears: range.upperBound) == index)
        }
    }

    @Test("fractional ages: nearest edge, ties to the younger bucket")
    func fractionalAges() {
        let cases: [(Double, Int)] = [(2.4, 0), (2.5, 0), (3.0, 0), (3.01, 1), (3.5, 1), (13.5, 2), (13.6, 3), (22.5, 3),
                                      (22.6, 4), (35.0, 4), (35.1, 5), (56.5, 6), (56.6, 7), (100.5, 7)]
        for (years, bucket) in cases { #expect(Dataset.ageBucket(forYears: years) == bucket, "\(years)") }
    }

    @Test("age cells: years, bucket labels; negative, garbage and too old refused")
    func ageCells() {
        #expect(Dataset.ageClass("0") == 0)
        #expect(Dataset.ageClass("35") == 4)
        #expect(Dataset.ageClass("36") == 5)
        #expect(Dataset.ageClass("26.5") == 4)
        #expect(Dataset.ageClass("150") == 7)
        #expect(Dataset.ageClass("25-32") == 4)
        #expect(Dataset.ageClass("(60, 100)") == 7)
        #expect(Dataset.ageClass("4_6") == 1)
        for bad in ["-1", "abc", "151", "1e3", "nan", "inf", "12 years", "25-33", "+5", "."] {
            #expect(Dataset.ageClass(bad) == nil, "\(bad)")
        }
    }

    @Test("gender cells: words and UTKFace digits (0 = male, 1 = female) onto 0 = female, 1 = male")
    func genderCells() {
        for female in ["female", "Female", "F", "f", "woman", "women", "1"] { #expect(Dataset.genderClass(female) == 0, "\(female)") }
        for male in ["male", "MALE", "M", "m", "man", "men", "0"] { #expect(Dataset.genderClass(male) == 1, "\(male)") }
        for bad in ["2", "x", "fem", "-1", "unknown"] { #expect(Dataset.genderClass(bad) == nil, "\(bad)") }
    }

    @Test("class folder names")
    func folderNames() {
        #expect(Dataset.folderClass("female", task: .gender) == 0)
        #expect(Dataset.folderClass("Male", task: .gender) == 1)
        #expect(Dataset.folderClass("0", task: .gender) == nil)
        #expect(Dataset.folderClass("0-2", task: .age) == 0)
        #expect(Dataset.folderClass("(38, 43)", task: .age) == 5)
        #expect(Dataset.folderClass("7", task: .age) == 7)
        #expect(Dataset.folderClass("8", task: .age) == nil)
        #expect(Dataset.folderClass("male", task: .age) == nil)
    }

    @Test("UTKFace names: AGE_GENDER_RACE_DATE")
    func utkfaceNames() {
        #expect(Dataset.utkfaceFields("100_1_0_20170110183726390.jpg.chip.jpg")! == (100, 1))
        #expect(Dataset.utkfaceFields("1_0_2_20161219140623097.jpg")! == (1, 0))
        for bad in ["61_1_20170109142408075.jpg.chip.jpg", "61_3_2_2017.jpg", "a_1_0_x.jpg", "1000_1_0_x.jpg",
                    "25_1_0_", "25_1_0", "face.jpg"] {
            #expect(Dataset.utkfaceFields(bad) == nil, "\(bad)")
        }
    }
}

@Suite("Dataset layouts")
struct DatasetLayoutTests {
    @Test("CSV: header with extra columns, CRLF, BOM, quotes, blank lines, paths relative to the CSV")
    func csv() throws {
        let tree = try TempTree()
        let jpeg = try DataTestSupport.smallJPEG()
        for name in ["a.jpg", "b.jpg", "c,d.jpg", "e.jpg", "f.jpg", "g.jpg"] { try tree.write("sets/utk/images/\(name)", jpeg) }
        let csv = "\u{FEFF}Path,AGE,gender,source_repo\r\n"
            + "images/a.jpg,1,female,github:x/y (z)\r\n"
            + "\r\n"
            + "images/b.jpg,35,m,\"quoted, with comma\"\r\n"
            + "\"images/c,d.jpg\",70,1,\r\n"
            + "images/e.jpg,3,0\r\n"
            + "images/f.jpg,,male\r\n"
            + "images/g.jpg,20,\n"
        try tree.write("sets/utk/labels.csv", text: csv)
        let root = try tree.root()
        let gender = try Dataset.load("sets/utk/labels.csv", root: root, task: .gender)
        #expect(gender.layout == "csv")
        #expect(gender.examples.map(\.path) == ["a.jpg", "b.jpg", "c,d.jpg", "e.jpg", "f.jpg"].map { tree.abs("sets/utk/images/\($0)") })
        #expect(gender.examples.map(\.label) == [0, 1, 0, 1, 1])
        #expect(gender.rows == 6 && gender.unlabeled == 1 && gender.bad == 0 && gender.skipped == 1)
        #expect(gender.classCounts == [2, 3])
        let age = try Dataset.load("sets/utk/labels.csv", root: root, task: .age)
        #expect(age.examples.map(\.label) == [0, 4, 7, 0, 3])
        #expect(age.examples.map(\.path).last == tree.abs("sets/utk/images/g.jpg"))
        #expect(age.unlabeled == 1)
    }

    @Test("CSV: bad rows are skipped and counted with a description")
    func csvBadRows() throws {
        let tree = try TempTree()
        let jpeg = try DataTestSupport.smallJPEG()
        var csv = "path,age,gender\n"
        for i in 0..<40 {
            try tree.write("d/\(i).jpg", jpeg)
            csv += "d/\(i).jpg,\(i),f\n"
        }
        csv += "d/missing.jpg,5,f\n"   // missing file
        csv += "d/0.jpg,-3,f\n"        // negative age
        csv += "d/0.jpg,old,f\n"       // garbage
        csv += "d/0.jpg\n"             // too few fields
        csv += "\"d/0.jpg,5,f\n"       // unterminated quote
        try tree.write("l.csv", text: csv)
        let summary = try Dataset.load("l.csv", root: try tree.root(), task: .age)
        #expect(summary.examples.count == 40)
        #expect(summary.rows == 45 && summary.bad == 5 && summary.skipped == 5)
        #expect(summary.problems.count == 5)
        #expect(summary.problems[0] == "line 42: 'd/missing.jpg' does not exist")
        #expect(summary.problems[1].hasPrefix("line 43: age '-3' is not"))
        #expect(summary.problems[2].hasPrefix("line 44: age 'old'"))
    }

    @Test("CSV: too many bad rows refuse the dataset; within the tolerance they are skipped")
    func csvBadRowLimit() throws {
        let tree = try TempTree()
        try tree.write("a.jpg", try DataTestSupport.smallJPEG())
        // 10 bad rows are always tolerated, even with 1 good row.
        try tree.write("ten.csv", text: "path,age\na.jpg,5\n" + String(repeating: "a.jpg,x\n", count: 10))
        #expect(try Dataset.load("ten.csv", root: try tree.root(), task: .age).bad == 10)
        // 11 bad of 12 is over both the count and the 10% fraction.
        try tree.write("eleven.csv", text: "path,age\na.jpg,5\n" + String(repeating: "a.jpg,x\n", count: 11))
        guard case .tooManyBadRows(let path, let bad, let total, let example) =
            dataError({ _ = try Dataset.load("eleven.csv", root: try tree.root(), task: .age) }) else {
            Issue.record("11 bad rows of 12 were accepted")
            return
        }
        #expect(path == "eleven.csv" && bad == 11 && total == 12)
        #expect(example.hasPrefix("line 3: age 'x'"))
        // 11 bad of 200 is under 10%.
        try tree.write("many.csv", text: "path,age\n" + String(repeating: "a.jpg,5\n", count: 189) + String(repeating: "a.jpg,x\n", count: 11))
        #expect(try Dataset.load("many.csv", root: try tree.root(), task: .age).examples.count == 189)
    }

    @Test("CSV: structural errors name the file and line")
    func csvStructure() throws {
        let tree = try TempTree()
        try tree.write("a.jpg", try DataTestSupport.smallJPEG())
        let root = try tree.root()
        try tree.write("nopath.csv", text: "file,age\na.jpg,5\n")
        #expect(dataError { _ = try Dataset.load("nopath.csv", root: root, task: .age) }
            == .invalidCSV(path: "nopath.csv", line: 1, reason: "the header must name a 'path' column (path,age,gender)"))
        try tree.write("noage.csv", text: "path,gender\na.jpg,f\n")
        guard case .invalidCSV(_, 1, let reason) = dataError({ _ = try Dataset.load("noage.csv", root: root, task: .age) }) else {
            Issue.record("a CSV without an age column was accepted for age")
            return
        }
        #expect(reason.contains("'age'"))
        #expect(try Dataset.load("noage.csv", root: root, task: .gender).examples.count == 1)
        try tree.write("empty.csv", text: "")
        guard case .invalidCSV = dataError({ _ = try Dataset.load("empty.csv", root: root, task: .age) }) else {
            Issue.record("an empty CSV was accepted")
            return
        }
        try tree.write("long.csv", text: "path,age\na.jpg,5\n" + String(repeating: "x", count: Dataset.Limits.maxLineBytes + 1) + ",5\n")
        guard case .invalidCSV(_, 3, let long) = dataError({ _ = try Dataset.load("long.csv", root: root, task: .age) }) else {
            Issue.record("an over-long line was accepted")
            return
        }
        #expect(long.contains("\(Dataset.Limits.maxLineBytes)"))
    }

    @Test("an empty dataset is a clear error")
    func emptyDataset() throws {
        let tree = try TempTree()
        try tree.write("a.jpg", try DataTestSupport.smallJPEG())
        try tree.write("header.csv", text: "path,age,gender\n")
        try tree.write("unlabeled.csv", text: "path,age,gender\na.jpg,,f\n")
        let root = try tree.root()
        #expect(dataError { _ = try Dataset.load("header.csv", root: root, task: .age) }
            == .emptyDataset(path: "header.csv", reason: "0 rows, 0 without a label for age, 0 unusable"))
        guard case .emptyDataset(_, let reason) = dataError({ _ = try Dataset.load("unlabeled.csv", root: root, task: .age) }) else {
            Issue.record("a CSV without age labels was accepted")
            return
        }
        #expect(reason.hasPrefix("1 rows, 1 without"))
        try tree.mkdir("nothing")
        guard case .unsupportedLayout = dataError({ _ = try Dataset.load("nothing", root: root, task: .gender) }) else {
            Issue.record("an empty folder was accepted")
            return
        }
        try tree.write("notes.txt", text: "hello")
        guard case .unsupportedLayout = dataError({ _ = try Dataset.load("notes.txt", root: root, task: .gender) }) else {
            Issue.record("a .txt file was accepted")
            return
        }
    }

    @Test("UTKFace-style names: labels from the name, malformed names counted, others ignored")
    func utkfaceFolder() throws {
        let tree = try TempTree()
        let jpeg = try DataTestSupport.smallJPEG()
        for name in ["1_0_0_20170110.jpg.chip.jpg", "35_1_2_20170111.jpg", "100_1_0_2017.jpg", "58_0_3_x.JPG",
                     "61_1_20170109142408075.jpg.chip.jpg", ".hidden_1_0_x.jpg", "README.txt"] {
            try tree.write("utk/\(name)", jpeg)
        }
        try tree.mkdir("utk/sub")
        let root = try tree.root()
        let gender = try Dataset.load("utk", root: root, task: .gender)
        #expect(gender.layout == "utkface-names")
        #expect(gender.examples.map(\.path) == ["100_1_0_2017.jpg", "1_0_0_20170110.jpg.chip.jpg", "35_1_2_20170111.jpg", "58_0_3_x.JPG"]
            .map { tree.abs("utk/\($0)") })
        #expect(gender.examples.map(\.label) == [0, 1, 0, 1])
        #expect(gender.rows == 5 && gender.bad == 1)
        #expect(gender.problems == ["'61_1_20170109142408075.jpg.chip.jpg' is not named AGE_GENDER_RACE_DATE.jpg"])
        let age = try Dataset.load("utk/", root: root, task: .age)
        #expect(age.examples.map(\.label) == [7, 0, 4, 7])
    }

    @Test("class folders: gender male/female (and synonyms), age buckets by label or index")
    func classFolders() throws {
        let tree = try TempTree()
        let jpeg = try DataTestSupport.smallJPEG()
        try tree.write("g/female/b.jpg", jpeg)
        try tree.write("g/female/a.jpeg", jpeg)
        try tree.write("g/female/notes.txt", text: "x")
        try tree.write("g/M/c.jpg", jpeg)
        try tree.write("g/woman/d.jpg", jpeg)
        try tree.write("g/unknown/e.jpg", jpeg)
        try tree.write("g/stray.jpg", jpeg)
        try tree.write("a/0-2/x.jpg", jpeg)
        try tree.write("a/(25, 32)/y.jpg", jpeg)
        try tree.write("a/7/z.jpg", jpeg)
        let root = try tree.root()
        let gender = try Dataset.load("g", root: root, task: .gender)
        #expect(gender.layout == "class-folders")
        #expect(gender.examples == [
            LabeledExample(path: tree.abs("g/M/c.jpg"), label: 1),
            LabeledExample(path: tree.abs("g/female/a.jpeg"), label: 0),
            LabeledExample(path: tree.abs("g/female/b.jpg"), label: 0),
            LabeledExample(path: tree.abs("g/woman/d.jpg"), label: 0),
        ])
        #expect(gender.classCounts == [3, 1])
        let age = try Dataset.load("a", root: root, task: .age)
        #expect(age.examples.map(\.label) == [4, 0, 7])
        #expect(age.classCounts == [1, 0, 0, 0, 1, 0, 0, 1])
        // Age class folders are not gender class folders.
        guard case .unsupportedLayout(_, let reason) = dataError({ _ = try Dataset.load("a", root: root, task: .gender) }) else {
            Issue.record("age folders were accepted for gender")
            return
        }
        #expect(reason.contains("female/ and male/"))
    }

    @Test("confinement inside datasets: CSV entries and folder files may not leave the root")
    func confinementInside() throws {
        let outside = try TempTree()
        let jpeg = try DataTestSupport.smallJPEG()
        try outside.write("secret.jpg", jpeg)
        try outside.write("female/s.jpg", jpeg)
        let tree = try TempTree()
        try tree.write("sets/in.jpg", jpeg)
        try tree.write("other/shared.jpg", jpeg)
        try tree.symlink("sets/out.jpg", to: outside.abs("secret.jpg"))
        try tree.symlink("sets/ok.jpg", to: "../other/shared.jpg")
        let root = try tree.root()
        func load(_ csv: String, _ task: TrainingTask = .age) throws -> DatasetSummary {
            try tree.write("sets/l.csv", text: "path,age\n" + csv)
            return try Dataset.load("sets/l.csv", root: root, task: task)
        }
        #expect(dataError { _ = try load("in.jpg,5\n../../x.jpg,5\n") } == .outsideDataRoot("sets/../../x.jpg"))
        #expect(dataError { _ = try load("in.jpg,5\n\(outside.abs("secret.jpg")),5\n") } == .absolutePath(outside.abs("secret.jpg")))
        #expect(dataError { _ = try load("in.jpg,5\nout.jpg,5\n") } == .outsideDataRoot("sets/out.jpg"))
        // `..` that stays inside, and a link to elsewhere inside, are fine; the link is resolved.
        let ok = try load("in.jpg,5\n../other/shared.jpg,5\nok.jpg,40\n")
        #expect(ok.examples.map(\.path) == [tree.abs("sets/in.jpg"), tree.abs("other/shared.jpg"), tree.abs("other/shared.jpg")])

        // A UTKFace folder with a linked file outside, and class folders linking out.
        try tree.write("utk/1_0_0_a.jpg", jpeg)
        try tree.symlink("utk/2_0_0_b.jpg", to: outside.abs("secret.jpg"))
        #expect(dataError { _ = try Dataset.load("utk", root: root, task: .age) } == .outsideDataRoot("utk/2_0_0_b.jpg"))
        try tree.mkdir("classes/male")
        try tree.write("classes/male/m.jpg", jpeg)
        try tree.symlink("classes/female", to: outside.abs("female"))
        #expect(dataError { _ = try Dataset.load("classes", root: root, task: .gender) } == .outsideDataRoot("classes/female"))
        try tree.mkdir("classes2/female")
        try tree.symlink("classes2/female/s.jpg", to: outside.abs("female/s.jpg"))
        #expect(dataError { _ = try Dataset.load("classes2", root: root, task: .gender) } == .outsideDataRoot("classes2/female/s.jpg"))
        // The dataset path itself.
        try tree.symlink("linked.csv", to: outside.abs("secret.jpg"))
        #expect(dataError { _ = try Dataset.load("linked.csv", root: root, task: .age) } == .outsideDataRoot("linked.csv"))
        #expect(dataError { _ = try Dataset.load("../x.csv", root: root, task: .age) } == .outsideDataRoot("../x.csv"))
    }

    @Test("limits: examples, CSV bytes and folder entries")
    func limits() throws {
        let tree = try TempTree()
        let jpeg = try DataTestSupport.smallJPEG()
        for i in 0..<5 { try tree.write("utk/\(i)_0_0_x.jpg", jpeg) }
        try tree.write("l.csv", text: "path,age\n" + (0..<5).map { "utk/\($0)_0_0_x.jpg,\($0)\n" }.joined())
        let root = try tree.root()
        #expect(try Dataset.load("l.csv", root: root, task: .age, adjust: { $0.maxExamples = 5 }).examples.count == 5)
        #expect(dataError { _ = try Dataset.load("l.csv", root: root, task: .age, adjust: { $0.maxExamples = 4 }) }
            == .limitExceeded(path: "l.csv", reason: "more than 4 examples"))
        guard case .limitExceeded(_, let bytes) = dataError({ _ = try Dataset.load("l.csv", root: root, task: .age, adjust: { $0.maxCSVBytes = 20 }) }) else {
            Issue.record("a CSV over the byte limit was read")
            return
        }
        #expect(bytes.hasSuffix("the limit is 20"))
        guard case .invalidCSV(_, 2, _) = dataError({ _ = try Dataset.load("l.csv", root: root, task: .age, adjust: { $0.maxLineBytes = 12 }) }) else {
            Issue.record("a line over the limit was accepted")
            return
        }
        #expect(try Dataset.load("utk", root: root, task: .age, adjust: { $0.maxFolderEntries = 5 }).examples.count == 5)
        #expect(dataError { _ = try Dataset.load("utk", root: root, task: .age, adjust: { $0.maxFolderEntries = 4 }) }
            == .limitExceeded(path: "utk", reason: "the folder has more than 4 entries"))
    }
}

@Suite("Dataset split")
struct DatasetSplitTests {
    static let examples = (0..<101).map { LabeledExample(path: "/d/\($0).jpg", label: Int32($0 % 8)) }

    @Test("deterministic for a seed, a partition of the input, sized by rounding")
    func split() {
        let a = Dataset.split(Self.examples, validationFraction: 0.2, seed: 7)
        let b = Dataset.split(Self.examples, validationFraction: 0.2, seed: 7)
        let c = Dataset.split(Self.examples, validationFraction: 0.2, seed: 8)
        #expect(a.train == b.train && a.validation == b.validation)
        #expect(a.validation != c.validation)
        #expect(a.validation.count == 20 && a.train.count == 81)
        #expect(Set(a.train).isDisjoint(with: a.validation))
        #expect(Set(a.train + a.validation) == Set(Self.examples))
        // Shuffled: the validation set is not simply the input's tail.
        #expect(a.validation != Array(Self.examples.suffix(20)))
    }

    @Test("fractions are clamped to 0...1")
    func clamped() {
        #expect(Dataset.split(Self.examples, validationFraction: 0, seed: 1).validation.isEmpty)
        #expect(Dataset.split(Self.examples, validationFraction: -1, seed: 1).validation.isEmpty)
        #expect(Dataset.split(Self.examples, validationFraction: .nan, seed: 1).validation.isEmpty)
        #expect(Dataset.split(Self.examples, validationFraction: 2, seed: 1).train.isEmpty)
        #expect(Dataset.split(Self.examples, validationFraction: 0.005, seed: 1).validation.count == 1)
        #expect(Dataset.split([], validationFraction: 0.5, seed: 1).train.isEmpty)
    }
}
