/// Sizes of one 2-D convolution on a fixed input size (per sample, NCHW).
public struct ConvGeometry: Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var inH: Int
    public var inW: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var dilationH: Int
    public var dilationW: Int
    public var groups: Int

    public init(inChannels: Int, outChannels: Int, inH: Int, inW: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.inH = inH; self.inW = inW
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
    }

    public var outH: Int { (inH + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1 }
    public var outW: Int { (inW + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1 }
    /// Output channels of one group (GEMM rows).
    /// Input extent with the padding on both sides.
    public var paddedInH: Int { inH + padTop + padBottom }
    public var paddedInW: Int { inW + padLeft + padRight }
    public var hasPadding: Bool { padTop != 0 || padLeft != 0 || padBottom != 0 || padRight != 0 }

    public var groupOutChannels: Int { outChannels / groups }
    /// Input channels of one group.
    public var groupInChannels: Int { inChannels / groups }
    /// Reduction length of one group's GEMM: `inChannels / groups * kernelH * kernelW`.
    public var groupK: Int { groupInChannels * kernelH * kernelW }
    /// Multiply-adds per sample.
    public var macsPerSample: Int { outChannels * outH * outW * groupK }

    /// Whether every size is positive, channels divide by groups and the output is non-empty.
    public var isValid: Bool {
        inChannels > 0 && outChannels > 0 && inH > 0 && inW > 0 && kernelH > 0 && kernelW > 0
            && strideH > 0 && strideW > 0 && dilationH > 0 && dilationW > 0 && groups > 0
            && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0
            && inChannels % groups == 0 && outChannels % groups == 0
            && inH + padTop + padBottom >= dilationH * (kernelH - 1) + 1
            && inW + padLeft + padRight >= dilationW * (kernelW - 1) + 1
    }
}

/// Sizes of one max or average pooling on a fixed input size (per sample, NCHW).
public struct PoolGeometry: Sendable, Equatable {
    public var channels: Int
    public var inH: Int
    public var inW: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var ceilMode: Bool
    /// Average pooling only: divide by the window size including padding.
    public var countIncludePad: Bool

    public init(channels: Int, inH: Int, inW: Int, kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                ceilMode: Bool = false, countIncludePad: Bool = false) {
        self.channels = channels; self.inH = inH; self.inW = inW; self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
    }

    /// Output extent along one axis; in ceil mode a last window that would start
    /// inside the trailing padding is dropped (PyTorch and onnxruntime agree on this).
    static func outExtent(_ size: Int, _ kernel: Int, _ stride: Int, _ padA: Int, _ padB: Int, _ ceil: Bool) -> Int {
        let span = size + padA + padB - kernel
        if span < 0 { return 0 }
        var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
        if ceil && (out - 1) * stride >= size + padA { out -= 1 }
        return out
    }

    public var outH: Int { Self.outExtent(inH, kernelH, strideH, padTop, padBottom, ceilMode) }
    public var outW: Int { Self.outExtent(inW, kernelW, strideW, padLeft, padRight, ceilMode) }

    public var isValid: Bool {
        channels > 0 && inH > 0 && inW > 0 && kernelH > 0 && kernelW > 0 && strideH > 0 && strideW > 0
            && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0
            && padTop < kernelH && padBottom < kernelH && padLeft < kernelW && padRight < kernelW
            && outH > 0 && outW > 0
    }
}
