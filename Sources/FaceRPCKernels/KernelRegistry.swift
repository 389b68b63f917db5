/// A GEMM micro-kernel: computes one `mr x nr` tile of `C = clamp(bias + A·B)`.
///
/// Arguments: `kc`, packed A panel (`[kc][mr]`), packed B panel (`[kc][nr]`),
/// bias (`mr` values), C, C's row stride, clamp min, clamp max.
public typealias GemmMicrokernel = @Sendable (
    Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
    UnsafeMutablePointer<Float>, Int, Float, Float
) -> Void

/// One GEMM micro-kernel with its tile shape.
public struct GemmVariant: Sendable, CustomStringConvertible {
    /// XNNPACK-style name: type, op, tile (`mr x nr`), vector type.
    public let name: String
    /// Rows of the tile (output channels for convolution).
    public let mr: Int
    /// Columns of the tile (output pixels for convolution).
    public let nr: Int
    public let kernel: GemmMicrokernel
    /// Width of the narrow companion kernel (same `mr`) used for a last column
    /// panel of at most that many columns; 0 when there is none.
    public let narrowNR: Int
    public let narrowKernel: GemmMicrokernel?

    public init(name: String, mr: Int, nr: Int, narrowNR: Int = 0, narrowKernel: GemmMicrokernel? = nil,
                kernel: @escaping GemmMicrokernel) {
        self.name = name; self.mr = mr; self.nr = nr; self.kernel = kernel
        self.narrowNR = narrowKernel == nil ? 0 : narrowNR
        self.narrowKernel = narrowKernel
    }

    /// Panel width and kernel for a column panel holding `columns` real columns.
    @inline(__always)
    public func panel(forColumns columns: Int) -> (width: Int, kernel: GemmMicrokernel) {
        if let narrowKernel, columns <= narrowNR { return (narrowNR, narrowKernel) }
        return (nr, kernel)
    }

    public var description: String { name }
}

/// A fully-connected kernel: `y = clamp(x · Wᵀ + b)` for the output features in `rows`.
public struct FullyConnectedVariant: Sendable, CustomStringConvertible {
    public let name: String
    public let run: @Sendable (_ input: UnsafePointer<Float>, _ batch: Int, _ inFeatures: Int, _ outFeatures: Int, _ rows: Range<Int>,
                               _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                               _ output: UnsafeMutablePointer<Float>, _ relu: Bool) -> Void
    public var description: String { name }
}

/// The one list of kernel variants; tests and benchmarks iterate it.
public enum KernelRegistry {
    public static let gemmVariants: [GemmVariant] = [
        GemmVariant(name: "f32_gemm_8x32_simd16", mr: 8, nr: 32, narrowNR: 16,
                    narrowKernel: { f32_gemm_8x16_simd16($0, $1, $2, $3, $4, $5, $6, $7) }) {
            f32_gemm_8x32_simd16($0, $1, $2, $3, $4, $5, $6, $7)
        },
        GemmVariant(name: "f32_gemm_6x32_simd16", mr: 6, nr: 32, narrowNR: 16,
                    narrowKernel: { f32_gemm_6x16_simd16($0, $1, $2, $3, $4, $5, $6, $7) }) {
            f32_gemm_6x32_simd16($0, $1, $2, $3, $4, $5, $6, $7)
        },
        GemmVariant(name: "f32_gemm_4x48_simd16", mr: 4, nr: 48, narrowNR: 16,
                    narrowKernel: { f32_gemm_4x16_simd16($0, $1, $2, $3, $4, $5, $6, $7) }) {
            f32_gemm_4x48_simd16($0, $1, $2, $3, $4, $5, $6, $7)
        },
        GemmVariant(name: "f32_gemm_4x64_simd16", mr: 4, nr: 64) { f32_gemm_4x64_simd16($0, $1, $2, $3, $4, $5, $6, $7) },
        GemmVariant(name: "f32_gemm_3x64_simd16", mr: 3, nr: 64) { f32_gemm_3x64_simd16($0, $1, $2, $3, $4, $5, $6, $7) },
        GemmVariant(name: "f32_gemm_9x32_simd16", mr: 9, nr: 32) { f32_gemm_9x32_simd16($0, $1, $2, $3, $4, $5, $6, $7) },
        GemmVariant(name: "f32_gemm_8x16_simd16", mr: 8, nr: 16) { f32_gemm_8x16_simd16($0, $1, $2, $3, $4, $5, $6, $7) },
        GemmVariant(name: "f32_gemm_8x16_simd8", mr: 8, nr: 16) { f32_gemm_8x16_simd8($0, $1, $2, $3, $4, $5, $6, $7) },
    ]

    /// The variant the network executor uses.
    public static var defaultGemm: GemmVariant { gemmVariants[0] }

    /// The variant for the transposed product of small-output layers: 4 pixels x
    /// 64 output channels per tile, so a 3x3 output at batch 1 fills whole tiles.
    public static var transposedGemm: GemmVariant { gemmVariants.first { $0.name == "f32_gemm_4x64_simd16" }! }

    /// The transposed product's tile for pixel counts that are a multiple of 3 but
    /// not of 4 (a 3x3 output at batch 1): 3 pixels x 64 channels, same weight packing.
    public static var transposedGemm3: GemmVariant { gemmVariants.first { $0.name == "f32_gemm_3x64_simd16" }! }

    /// The transposed product's tile for multiples of 9 pixels (3x3 and 6x6 outputs
    /// at batch 1): 9 pixels x 32 channels, so each weight vector feeds 9 pixels.
    public static var transposedGemm9: GemmVariant { gemmVariants.first { $0.name == "f32_gemm_9x32_simd16" }! }

    /// Micro-kernels whose A panel is blocked by 16 in k (`[kc/16][mr][16]`, `kc` a
    /// multiple of 16): the Winograd F(4x4, 3x3) path's transformed tiles, one
    /// 16-channel vector per tile. Same signature as ``gemmVariants``.
    public static let gemmC16Variants: [GemmVariant] = [
        GemmVariant(name: "f32_gemm_8x32c16_simd16", mr: 8, nr: 32) { f32_gemm_8x32c16_simd16($0, $1, $2, $3, $4, $5, $6, $7) },
    ]

    /// The variant ``PackedWinogradF4Convolution`` uses by default.
    public static var defaultGemmC16: GemmVariant { gemmC16Variants[0] }

    public static let fullyConnectedVariants: [FullyConnectedVariant] = [
        FullyConnectedVariant(name: "f32_fc_4x4_simd16") { f32_fc_4x4_simd16($0, $1, $2, $3, $4, $5, $6, $7, $8) },
        FullyConnectedVariant(name: "f32_fc_1x1_simd8") { f32_fc_1x1_simd8($0, $1, $2, $3, $4, $5, $6, $7, $8) },
    ]

    public static var defaultFullyConnected: FullyConnectedVariant { fullyConnectedVariants[0] }
}
