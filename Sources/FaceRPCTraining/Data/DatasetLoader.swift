/// The state of one ``Dataset/load(_:root:task:)`` call: counts, problems and
/// the examples so far, filled by the layout readers below.
struct DatasetLoader {
    let root: DataRoot
    /// The dataset path as the request gave it (for messages).
    let display: String
    let task: TrainingTask
    var examples: [LabeledExample] = []
    var layout = ""
    var rows = 0
    var unlabeled = 0
    var bad = 0
    var problems: [String] = []
    // The limits, from Dataset.Limits; tests lower them.
    var maxExamples = Dataset.Limits.maxExamples
    var maxCSVBytes = Dataset.Limits.maxCSVBytes
    var maxLineBytes = Dataset.Limits.maxLineBytes
    var maxFolderEntries = Dataset.Limits.maxFolderEntries

    init(root: DataRoot, display: String, task: TrainingTask) {
        self.root = root
        self.display = display
        self.task = task
    }

    mutating func noteBad(_ problem: String) {
        bad += 1
        if problems.count < Dataset.Limits.maxReportedProblems { problems.append(problem) }
    }

    mutating func add(_ path: String, _ label: Int32) throws {
        guard examples.count < maxExamples else {
            throw TrainingDataError.limitExceeded(path: display, reason: "more than \(maxExamples) examples")
        }
        examples.append(LabeledExample(path: path, label: label))
    }

    /// Resolves an image entry found in `folder`; nil (and a bad row) when it is
    /// missing or not a regular file. Leaving the root throws.
    mutating func resolveImage(_ entry: String, inFolder folder: String, context: String) throws -> String? {
        let real: String
        do {
            real = try root.resolve(entry, inFolder: folder)
        } catch TrainingDataError.notFound(let missing) {
            noteBad("\(context)\(TrainingDataError.quote(missing)) does not exist")
            return nil
        }
        guard FileAccess.targetKind(real) == .regular else {
            noteBad("\(context)\(TrainingDataError.quote(root.relativePath(of: real))) is not a regular file")
            return nil
        }
        return real
    }

    /// Applies the bad-row rule and builds the summary.
    func finish() throws -> DatasetSummary {
        let tolerated = bad <= Dataset.Limits.badRowsAlwaysTolerated
            || Double(bad) <= Double(rows) * Dataset.Limits.maxBadRowFraction
        guard tolerated else {
            throw TrainingDataError.tooManyBadRows(path: display, bad: bad, total: rows, example: problems.first ?? "")
        }
        guard !examples.isEmpty else {
            var reason = "\(rows) \(layout == "csv" ? "rows" : "images"), \(unlabeled) without a label for \(task.rawValue), \(bad) unusable"
            if let first = problems.first { reason += " (first: \(first))" }
            throw TrainingDataError.emptyDataset(path: display, reason: reason)
        }
        var counts = [Int](repeating: 0, count: task.classes)
        for example in examples { counts[Int(example.label)] += 1 }
        return DatasetSummary(
            examples: examples, skipped: unlabeled + bad, layout: layout, rows: rows, unlabeled: unlabeled,
            bad: bad, problems: problems, classCounts: counts)
    }

    // MARK: CSV

    mutating func loadCSV(_ real: String) throws {
        layout = "csv"
        let bytes = try FileAccess.readFile(real, maxBytes: maxCSVBytes, display: display)
        let folder = Self.parent(of: real)
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // UTF-8 BOM
        var lineNumber = 0
        var pathColumn = -1, labelColumn = -1
        var haveHeader = false
        let labelName = task.rawValue
        while start < bytes.count {
            lineNumber += 1
            let newline = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            var end = newline
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            defer { start = newline + 1 }
            guard end - start <= maxLineBytes else {
                throw TrainingDataError.invalidCSV(
                    path: display, line: lineNumber, reason: "the line has \(end - start) bytes; the limit is \(maxLineBytes)")
            }
            let line = bytes[start..<end]
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }  // blank line
            guard let fields = Self.fields(line) else {
                if !haveHeader {
                    throw TrainingDataError.invalidCSV(path: display, line: lineNumber, reason: "malformed header")
                }
                rows += 1
                noteBad("line \(lineNumber): malformed quoting or not UTF-8")
                continue
            }
            if !haveHeader {
                let names = fields.map { $0.trimmed.lowercased() }
                guard let p = names.firstIndex(of: "path") else {
                    throw TrainingDataError.invalidCSV(
                        path: display, line: lineNumber, reason: "the header must name a 'path' column (path,age,gender)")
                }
                guard let l = names.firstIndex(of: labelName) else {
                    throw TrainingDataError.invalidCSV(
                        path: display, line: lineNumber,
                        reason: "the header has no '\(labelName)' column, needed to train \(labelName)")
                }
                pathColumn = p
                labelColumn = l
                haveHeader = true
                continue
            }
            rows += 1
            guard fields.count > max(pathColumn, labelColumn) else {
                noteBad("line \(lineNumber): \(fields.count) fields, fewer than the header's columns")
                continue
            }
            let cell = fields[labelColumn].trimmed
            if cell.isEmpty {
                unlabeled += 1
                continue
            }
            let parsed = task == .age ? Dataset.ageClass(cell) : Dataset.genderClass(cell)
            guard let label = parsed else {
                let expected = task == .age
                    ? "years in 0...\(Int(Dataset.Limits.maxAge)) or a bucket label such as 25-32"
                    : "female, male, f, m, 0 (male) or 1 (female)"
                noteBad("line \(lineNumber): \(labelName) \(TrainingDataError.quote(cell)) is not \(expected)")
                continue
            }
            let entry = fields[pathColumn].trimmed
            guard !entry.isEmpty else {
                noteBad("line \(lineNumber): empty path")
                continue
            }
            guard let image = try resolveImage(entry, inFolder: folder, context: "line \(lineNumber): ") else { continue }
            try add(image, label)
        }
        if !haveHeader {
            throw TrainingDataError.invalidCSV(path: display, line: max(lineNumber, 1), reason: "the file has no header line")
        }
    }

    /// Splits one CSV line into fields. A field that starts with `"` runs to the
    /// next lone `"` (`""` is a literal quote) and must be followed by `,` or
    /// the end. nil for malformed quoting or a field that is not UTF-8.
    static func fields(_ line: ArraySlice<UInt8>) -> [String]? {
        var fields: [String] = []
        var i = line.startIndex
        while true {
            var field: [UInt8] = []
            if i < line.endIndex, line[i] == 0x22 {
                i += 1
                var closed = false
                while i < line.endIndex {
                    if line[i] == 0x22 {
                        if i + 1 < line.endIndex, line[i + 1] == 0x22 {
                            field.append(0x22)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    field.append(line[i])
                    i += 1
                }
                guard closed, i == line.endIndex || line[i] == 0x2C else { return nil }
            } else {
                while i < line.endIndex, line[i] != 0x2C {
                    field.append(line[i])
                    i += 1
                }
            }
            guard let text = String(validating: field, as: UTF8.self) else { return nil }
            fields.append(text)
            if i == line.endIndex { return fields }
            i += 1  // the comma
        }
    }

    static func parent(of real: String) -> String {
        guard let slash = real.lastIndex(of: "/"), slash != real.startIndex else { return "/" }
        return String(real[..<slash])
    }

    // MARK: Folders

    mutating func loadFolder(_ real: String) throws {
        let listing = try FileAccess.listDirectory(real, maxEntries: maxFolderEntries, display: display)
        var classFolders: [(real: String, label: Int32)] = []
        var images: [String] = []
        for name in listing.names where !name.hasPrefix(".") {
            let full = real + "/" + name
            let kind = FileAccess.linkKind(full)
            if let label = Dataset.folderClass(name, task: task), kind == .directory || kind == .symlink {
                let target = try root.resolve(name, inFolder: real)
                if FileAccess.targetKind(target) == .directory { classFolders.append((target, label)) }
            } else if Dataset.isJPEGName(name) {
                images.append(name)
            }
        }
        if !classFolders.isEmpty {
            layout = "class-folders"
            for folder in classFolders {
                let display = root.relativePath(of: folder.real)
                let inner = try FileAccess.listDirectory(
                    folder.real, maxEntries: maxFolderEntries, display: display)
                for name in inner.names where !name.hasPrefix(".") && Dataset.isJPEGName(name) {
                    rows += 1
                    guard let image = try resolveImage(name, inFolder: folder.real, context: "") else { continue }
                    try add(image, folder.label)
                }
            }
        } else if images.contains(where: { Dataset.utkfaceFields($0) != nil }) {
            layout = "utkface-names"
            for name in images {
                rows += 1
                guard let fields = Dataset.utkfaceFields(name) else {
                    noteBad("\(TrainingDataError.quote(name)) is not named AGE_GENDER_RACE_DATE.jpg")
                    continue
                }
                guard Double(fields.age) <= Dataset.Limits.maxAge else {
                    noteBad("\(TrainingDataError.quote(name)): age \(fields.age) is over \(Int(Dataset.Limits.maxAge))")
                    continue
                }
                // UTKFace: gender digit 0 = male (our 1), 1 = female (our 0).
                let label = task == .age ? Int32(Dataset.ageBucket(forAge: fields.age)) : Int32(1 - fields.gender)
                guard let image = try resolveImage(name, inFolder: real, context: "") else { continue }
                try add(image, label)
            }
        } else {
            let folders = task == .gender ? "female/ and male/" : "0-2/ ... 60-100/"
            throw TrainingDataError.unsupportedLayout(
                path: display,
                reason: "the folder has neither \(task.rawValue) class folders (\(folders)) nor UTKFace-style "
                    + "image names (AGE_GENDER_RACE_DATE.jpg)")
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
