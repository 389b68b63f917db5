#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Upper bounds applied while reading a shape predictor file. Every count in
/// the file is checked against these (and against the bytes left) before
/// anything is allocated for it.
public enum ShapePredictorLimits {
    /// Largest file accepted. dlib's 68-point model is about 100 MB; the 5-point one 9 MB.
    public static let maxFileBytes = 160 << 20
    /// Most landmarks per shape (dlib's largest published model has 194).
    public static let maxParts = 1024
    /// Most cascade stages (dlib's default is 10, the 5-point model has 15).
    public static let maxCascades = 64
    /// Most regression trees in one cascade stage (dlib's default is 500).
    public static let maxTreesPerCascade = 10_000
    /// Deepest tree: trees are complete, so a tree has `2^depth - 1` splits.
    public static let maxTreeDepth = 16
    /// Most feature pixels sampled by one cascade stage (dlib's default is 400 to 800).
    public static let maxFeaturePixelsPerCascade = 100_000
}

/// One split node: go left when `feature[idx1] - feature[idx2] > threshold`.
struct ShapePredictorSplit: Sendable, Equatable {
    var idx1: UInt32
    var idx2: UInt32
    var threshold: Float
}

/// A complete binary tree stored in the model's flat arrays.
struct ShapePredictorTree: Sendable, Equatable {
    /// First split in ``ShapePredictorModel/splits``; the tree has `splitCount` of them in heap order.
    var splitStart: Int
    var splitCount: Int
    /// Levels of splits: `splitCount == 2^depth - 1`.
    var depth: Int
    /// First float of leaf 0 in ``ShapePredictorModel/leafValues``; leaves are `shapeLength` floats apart.
    var leafStart: Int
}

/// One stage of the cascade: the pixels it samples and the trees it runs.
struct ShapePredictorCascade: Sendable, Equatable {
    /// Range in ``ShapePredictorModel/anchors`` (and, times two, in ``ShapePredictorModel/deltas``).
    var featureStart: Int
    var featureCount: Int
    /// Range in ``ShapePredictorModel/trees``.
    var treeStart: Int
    var treeEnd: Int
}

/// A parsed and validated dlib `shape_predictor`, flattened into contiguous
/// arrays so inference walks memory linearly. All indices stored here were
/// range-checked at load time.
struct ShapePredictorModel: Sendable, Equatable {
    var numParts: Int
    /// The mean shape in unit-square coordinates, x0, y0, x1, y1, ...
    var initialShape: [Float]
    var cascades: [ShapePredictorCascade]
    var trees: [ShapePredictorTree]
    var splits: [ShapePredictorSplit]
    var leafValues: [Float]
    /// Index of the landmark each feature pixel is anchored to.
    var anchors: [UInt32]
    /// Offset of each feature pixel from its anchor in mean-shape coordinates, x and y interleaved.
    var deltas: [Float]
    /// Largest `featureCount` of any cascade: the size of the feature scratch buffer.
    var maxFeatureCount: Int
    /// Largest number of trees in any cascade: the size of the leaf-offset scratch buffer.
    var maxTreeCount: Int

    var shapeLength: Int { numParts * 2 }

    /// Parses dlib's serialization of `shape_predictor` (version 1):
    /// `int version`, `matrix<float,0,1> initial_shape`,
    /// `vector<vector<regression_tree>> forests`, `vector<vector<unsigned long>> anchor_idx`,
    /// `vector<vector<dlib::vector<float,2>>> deltas`, where a regression tree is
    /// `vector<split_feature{unsigned long idx1, idx2; float thresh}> splits` then
    /// `vector<matrix<float,0,1>> leaf_values`.
    init(dlibBytes bytes: UnsafeRawBufferPointer) throws(DlibDeserializationError) {
        var decoder = DlibDecoder(bytes)
        typealias Limits = ShapePredictorLimits

        let versionOffset = decoder.offset
        let version = try decoder.readSigned(byteWidth: 4, "version")
        guard version == 1 else {
            throw DlibDeserializationError(.unsupportedVersion, offset: versionOffset, "shape_predictor version \(version), expected 1")
        }

        let shapeOffset = decoder.offset
        let initialShape = try decoder.readFloatColumn("initial_shape", limit: Limits.maxParts * 2)
        guard !initialShape.isEmpty, initialShape.count % 2 == 0 else {
            throw DlibDeserializationError(.inconsistent, offset: shapeOffset, "initial_shape has \(initialShape.count) values, expected a positive even number")
        }
        let shapeLength = initialShape.count
        let numParts = shapeLength / 2

        // Forests. Indices into the feature pixels are checked once
        // anchor_idx (which comes later) tells how many pixels each stage has.
        let cascadeCount = try decoder.readCount("number of cascades", limit: Limits.maxCascades, minBytesPerElement: 2)
        var cascades = [ShapePredictorCascade]()
        cascades.reserveCapacity(cascadeCount)
        var trees = [ShapePredictorTree]()
        var splits = [ShapePredictorSplit]()
        var leafValues = [Float]()
        var maxSplitIndex = [UInt64](repeating: 0, count: cascadeCount)
        var cascadeHasSplits = [Bool](repeating: false, count: cascadeCount)
        let maxSplitsPerTree = (1 << Limits.maxTreeDepth) - 1
        for c in 0..<cascadeCount {
            // A tree takes at least 4 bytes: two vector lengths of at least 2 bytes.
            let treeCount = try decoder.readCount("number of trees in a cascade", limit: Limits.maxTreesPerCascade, minBytesPerElement: 4)
            let treeStart = trees.count
            for _ in 0..<treeCount {
                let splitsOffset = decoder.offset
                // A split takes at least 8 bytes: two integers of 2, a float of 4.
                let splitCount = try decoder.readCount("number of splits in a tree", limit: maxSplitsPerTree, minBytesPerElement: 8)
                let splitStart = splits.count
                for _ in 0..<splitCount {
                    let idx1 = try decoder.readUInt64("split idx1")
                    let idx2 = try decoder.readUInt64("split idx2")
                    let threshold = try decoder.readFiniteFloat("split threshold")
                    maxSplitIndex[c] = max(maxSplitIndex[c], idx1, idx2)
                    cascadeHasSplits[c] = true
                    guard idx1 < UInt64(Limits.maxFeaturePixelsPerCascade), idx2 < UInt64(Limits.maxFeaturePixelsPerCascade) else {
                        throw DlibDeserializationError(.limitExceeded, offset: splitsOffset, "split feature index above the limit of \(Limits.maxFeaturePixelsPerCascade)")
                    }
                    splits.append(ShapePredictorSplit(idx1: UInt32(idx1), idx2: UInt32(idx2), threshold: threshold))
                }
                let leavesOffset = decoder.offset
                // A leaf takes at least 4 bytes: a matrix header of two 2-byte integers.
                let leafCount = try decoder.readCount("number of leaves in a tree", limit: maxSplitsPerTree + 1, minBytesPerElement: 4)
                // dlib walks trees as complete heaps: leaves == splits + 1, a power of two.
                guard leafCount == splitCount + 1, leafCount & (leafCount - 1) == 0 else {
                    throw DlibDeserializationError(.inconsistent, offset: leavesOffset, "tree has \(splitCount) splits and \(leafCount) leaves, expected a complete tree")
                }
                let leafStart = leafValues.count
                for _ in 0..<leafCount {
                    let leafOffset = decoder.offset
                    let leafLength = try decoder.readColumnHeader("leaf value", limit: Limits.maxParts * 2)
                    guard leafLength == shapeLength else {
                        throw DlibDeserializationError(.inconsistent, offset: leafOffset, "leaf value has \(leafLength) entries, expected \(shapeLength)")
                    }
                    for _ in 0..<shapeLength {
                        leafValues.append(try decoder.readFiniteFloat("leaf value"))
                    }
                }
                trees.append(ShapePredictorTree(splitStart: splitStart, splitCount: splitCount, depth: leafCount.trailingZeroBitCount, leafStart: leafStart))
            }
            cascades.append(ShapePredictorCascade(featureStart: 0, featureCount: 0, treeStart: treeStart, treeEnd: trees.count))
        }

        let anchorsOffset = decoder.offset
        let anchorCascades = try decoder.readCount("number of anchor_idx vectors", limit: Limits.maxCascades, minBytesPerElement: 2)
        guard anchorCascades == cascadeCount else {
            throw DlibDeserializationError(.inconsistent, offset: anchorsOffset, "\(anchorCascades) anchor_idx vectors for \(cascadeCount) cascades")
        }
        var anchors = [UInt32]()
        var maxFeatureCount = 0
        for c in 0..<cascadeCount {
            let countOffset = decoder.offset
            let featureCount = try decoder.readCount("number of feature pixels", limit: Limits.maxFeaturePixelsPerCascade, minBytesPerElement: 2)
            guard !cascadeHasSplits[c] || maxSplitIndex[c] < UInt64(featureCount) else {
                throw DlibDeserializationError(.inconsistent, offset: countOffset, "cascade \(c) has \(featureCount) feature pixels but its splits index pixel \(maxSplitIndex[c])")
            }
            cascades[c].featureStart = anchors.count
            cascades[c].featureCount = featureCount
            maxFeatureCount = max(maxFeatureCount, featureCount)
            for _ in 0..<featureCount {
                let anchorOffset = decoder.offset
                let anchor = try decoder.readUInt64("anchor index")
                guard anchor < UInt64(numParts) else {
                    throw DlibDeserializationError(.inconsistent, offset: anchorOffset, "anchor index \(anchor) but the shape has \(numParts) parts")
                }
                anchors.append(UInt32(anchor))
            }
        }

        let deltasOffset = decoder.offset
        let deltaCascades = try decoder.readCount("number of delta vectors", limit: Limits.maxCascades, minBytesPerElement: 2)
        guard deltaCascades == cascadeCount else {
            throw DlibDeserializationError(.inconsistent, offset: deltasOffset, "\(deltaCascades) delta vectors for \(cascadeCount) cascades")
        }
        var deltas = [Float]()
        deltas.reserveCapacity(anchors.count * 2)
        for c in 0..<cascadeCount {
            let countOffset = decoder.offset
            // A delta is two floats of at least 4 bytes each.
            let count = try decoder.readCount("number of deltas", limit: Limits.maxFeaturePixelsPerCascade, minBytesPerElement: 8)
            guard count == cascades[c].featureCount else {
                throw DlibDeserializationError(.inconsistent, offset: countOffset, "cascade \(c) has \(count) deltas for \(cascades[c].featureCount) anchors")
            }
            for _ in 0..<count {
                deltas.append(try decoder.readFiniteFloat("delta x"))
                deltas.append(try decoder.readFiniteFloat("delta y"))
            }
        }

        guard decoder.isAtEnd else {
            throw DlibDeserializationError(.trailingBytes, offset: decoder.offset, "\(decoder.remaining) bytes follow the shape predictor")
        }

        self.numParts = numParts
        self.initialShape = initialShape
        self.cascades = cascades
        self.trees = trees
        self.splits = splits
        self.leafValues = leafValues
        self.anchors = anchors
        self.deltas = deltas
        self.maxFeatureCount = maxFeatureCount
        self.maxTreeCount = cascades.map { $0.treeEnd - $0.treeStart }.max() ?? 0
    }

    /// Reads a whole file with POSIX calls, refusing files above `limit` bytes
    /// before allocating.
    static func readFile(path: String, limit: Int = ShapePredictorLimits.maxFileBytes) throws(DlibDeserializationError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw DlibDeserializationError(.io, offset: 0, "cannot open \(path): errno \(errno)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DlibDeserializationError(.io, offset: 0, "cannot stat \(path): errno \(errno)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DlibDeserializationError(.io, offset: 0, "\(path) is not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw DlibDeserializationError(.limitExceeded, offset: 0, "\(path) is \(size) bytes, above the limit of \(limit)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        var readError: Int32 = 0
        bytes.withUnsafeMutableBytes { buffer in
            while filled < size {
                let n = read(fd, buffer.baseAddress! + filled, size - filled)
                if n > 0 {
                    filled += n
                } else if n == 0 {
                    break
                } else if errno != EINTR {
                    readError = errno
                    break
                }
            }
        }
        guard readError == 0 else {
            throw DlibDeserializationError(.io, offset: filled, "cannot read \(path): errno \(readError)")
        }
        guard filled == size else {
            throw DlibDeserializationError(.io, offset: filled, "\(path) shrank while being read")
        }
        return bytes
    }
}
