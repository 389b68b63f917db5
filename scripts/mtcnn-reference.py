#!/usr/bin/env python3
"""Reference for FaceRPCDetection's MTCNN: the networks and the detection
pipeline of mtcnn==1.0.0 re-implemented in plain numpy (no TensorFlow), from
the original Keras weight arrays in the pinned wheel.

    mtcnn-reference.py check MODELS_DIR
        Runs the numpy Keras layers and onnxruntime on the converted ONNX
        (MODELS_DIR/mtcnn-{pnet,rnet,onet}) on the same random inputs and
        fails unless every output agrees within 1e-4. This proves the
        conversion (layout, padding, permute, merged heads).

    mtcnn-reference.py ort MODELS_DIR OUT_DIR
        Writes random inputs and onnxruntime's outputs as raw little-endian
        float32 files plus OUT_DIR/cases.json, for the Swift tests.

    mtcnn-reference.py detect IMAGE [--min-face 20] [--thresholds 0.6 0.7 0.7] [--rgb-out PATH] [--resize W H]
        Decodes IMAGE with PIL (RGB), runs the numpy pipeline and prints JSON
        {"width", "height", "faces": [{"box": [x1, y1, x2, y2], "score",
        "landmarks": [[x, y] x 5]}]}; with --rgb-out also writes the decoded
        pixels (rows top to bottom, RGB interleaved).

The wheel is found like scripts/convert-mtcnn.py finds it (--wheel,
$FACERPC_MTCNN_WHEEL, the cache) and must match the same pinned digests.

The pipeline mirrors the package's stages step by step: pyramid
(build_scale_pyramid), TensorFlow's area resize, P-net proposals, the
package's NMS (which drops a box when ANY higher-scored box overlaps it, even
a dropped one), squaring, crop_and_resize patches for R- and O-net (bilinear,
zero outside the image), box regression, landmarks and the final clamping.
One deliberate difference, shared with the Swift detector: pyramid levels
whose smaller side is under 12 pixels are skipped (the package would fail on
them and return no faces at all).
"""

import argparse
import importlib.util
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def converter():
    spec = importlib.util.spec_from_file_location("convert_mtcnn", os.path.join(HERE, "convert-mtcnn.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_weights(wheel=None):
    conv = converter()
    return conv.load_weights(conv.find_wheel(wheel))


# MARK: Keras layers in numpy (NHWC, float64)

def conv2d(x, kernel, bias):
    kh, kw = kernel.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # N, H', W', C, kh, kw
    return np.tensordot(windows, kernel.astype(np.float64), axes=([3, 4, 5], [2, 0, 1])) + bias


def prelu(x, alpha):
    return np.where(x > 0, x, x * alpha.reshape(-1))


def maxpool(x, k, s, padding):
    n, h, w, c = x.shape
    if padding == "same":
        oh, ow = -(-h // s), -(-w // s)
        ph = max((oh - 1) * s + k - h, 0)
        pw = max((ow - 1) * s + k - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), constant_values=-np.inf)
    else:
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s][:, :oh, :ow]
    return windows.max(axis=(4, 5))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def keras_flatten(x):
    return x.transpose(0, 2, 1, 3).reshape(x.shape[0], -1)  # Permute((2, 1, 3)) then Flatten


def pnet(w, x):
    x = maxpool(prelu(conv2d(x, w[0], w[1]), w[2]), 2, 2, "same")
    x = prelu(conv2d(x, w[3], w[4]), w[5])
    x = prelu(conv2d(x, w[6], w[7]), w[8])
    return conv2d(x, w[9], w[10]), softmax(conv2d(x, w[11], w[12]))


def rnet(w, x):
    x = maxpool(prelu(conv2d(x, w[0], w[1]), w[2]), 3, 2, "same")
    x = maxpool(prelu(conv2d(x, w[3], w[4]), w[5]), 3, 2, "valid")
    x = prelu(conv2d(x, w[6], w[7]), w[8])
    x = prelu(keras_flatten(x) @ w[9] + w[10], w[11])
    return x @ w[12] + w[13], softmax(x @ w[14] + w[15])


def onet(w, x):
    x = maxpool(prelu(conv2d(x, w[0], w[1]), w[2]), 3, 2, "same")
    x = maxpool(prelu(conv2d(x, w[3], w[4]), w[5]), 3, 2, "valid")
    x = maxpool(prelu(conv2d(x, w[6], w[7]), w[8]), 2, 2, "same")
    x = prelu(conv2d(x, w[9], w[10]), w[11])
    x = prelu(keras_flatten(x) @ w[12] + w[13], w[14])
    return x @ w[15] + w[16], x @ w[17] + w[18], softmax(x @ w[19] + w[20])


# MARK: ONNX Runtime on the converted files

def ort_session(models_dir, stage, dynamic=False):
    import onnx
    import onnxruntime as ort
    model = onnx.load(os.path.join(models_dir, f"mtcnn-{stage}", f"{stage}.onnx"))
    if dynamic:  # the file pins P-net to 12x12; onnxruntime checks that, our engine re-plans
        dims = model.graph.input[0].type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "H", "W"
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def run_ort(session, nchw):
    return session.run(None, {"input": nchw.astype(np.float32)})[0]


def keras_view(stage, y):
    """Splits the merged ONNX output like the Keras heads (softmax applied)."""
    if stage == "pnet":
        y = y.transpose(0, 2, 3, 1)
        return [y[..., :4], softmax(y[..., 4:6])]
    if stage == "rnet":
        return [y[:, :4], softmax(y[:, 4:6])]
    return [y[:, :4], y[:, 4:14], softmax(y[:, 14:16])]


def check(models_dir, wheel):
    weights = load_weights(wheel)
    rng = np.random.default_rng(7)
    nets = {"pnet": pnet, "rnet": rnet, "onet": onet}
    cases = [("pnet", (1, 12, 12)), ("pnet", (2, 31, 45)), ("pnet", (1, 64, 47)), ("pnet", (1, 97, 130)),
             ("rnet", (16, 24, 24)), ("onet", (16, 48, 48))]
    worst = 0.0
    for stage, (n, h, wd) in cases:
        x = rng.uniform(-1, 1, size=(n, h, wd, 3))
        expected = nets[stage](weights[stage], x)
        session = ort_session(models_dir, stage, dynamic=(stage == "pnet"))
        got = keras_view(stage, run_ort(session, x.transpose(0, 3, 1, 2)))
        diffs = [float(np.max(np.abs(e - g))) for e, g in zip(expected, got)]
        worst = max(worst, *diffs)
        print(f"{stage} input {n}x{h}x{wd}: max |numpy - onnxruntime| per head = " +
              ", ".join(f"{d:.2e}" for d in diffs))
    print(f"worst {worst:.2e}")
    if worst >= 1e-4:
        sys.exit("mtcnn-reference: the conversion does not match the Keras layers")


def write_ort_cases(models_dir, out_dir):
    rng = np.random.default_rng(11)
    os.makedirs(out_dir, exist_ok=True)
    cases = []
    for stage, shape in [("pnet", (1, 3, 12, 12)), ("pnet", (2, 3, 37, 52)), ("rnet", (5, 3, 24, 24)),
                         ("onet", (3, 3, 48, 48))]:
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
        y = run_ort(ort_session(models_dir, stage, dynamic=(stage == "pnet")), x)
        name = f"{stage}-{'x'.join(map(str, shape))}"
        x.tofile(os.path.join(out_dir, name + ".input.f32"))
        y.astype(np.float32).tofile(os.path.join(out_dir, name + ".output.f32"))
        cases.append({"stage": stage, "name": name, "input_shape": list(shape), "output_shape": list(y.shape)})
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(cases, f)


# MARK: Image operations as TensorFlow computes them

def area_weights(in_size, out_size):
    """Row i: the overlap of output pixel i's span with every input pixel (tf resize AREA)."""
    scale = np.float32(in_size) / np.float32(out_size)
    m = np.zeros((out_size, in_size), dtype=np.float64)
    for o in range(out_size):
        a, b = np.float32(o) * scale, np.float32(o + 1) * scale
        for i in range(int(np.floor(a)), int(np.ceil(b))):
            m[o, min(max(i, 0), in_size - 1)] += min(i + 1, b) - max(i, a)
    return m / float(scale)


def resize_area(image, out_h, out_w):
    h, w, _ = image.shape
    wy, wx = area_weights(h, out_h), area_weights(w, out_w)
    rows = np.tensordot(wy, image, axes=(1, 0))  # out_h, w, c
    return np.tensordot(wx, rows, axes=(1, 1)).transpose(1, 0, 2)


def crop_and_resize(image, boxes, size):
    """tf.image.crop_and_resize of one image: boxes [y1, x1, y2, x2] normalised, bilinear, 0 outside."""
    h, w, _ = image.shape
    b = boxes.astype(np.float32).astype(np.float64)
    steps = np.arange(size)
    ys = b[:, 0:1] * (h - 1) + steps * ((b[:, 2:3] - b[:, 0:1]) * (h - 1) / (size - 1))
    xs = b[:, 1:2] * (w - 1) + steps * ((b[:, 3:4] - b[:, 1:2]) * (w - 1) / (size - 1))
    inside = ((ys >= 0) & (ys <= h - 1))[:, :, None] & ((xs >= 0) & (xs <= w - 1))[:, None, :]
    t = np.clip(np.floor(ys), 0, h - 1).astype(int)
    bo = np.clip(np.ceil(ys), 0, h - 1).astype(int)
    l = np.clip(np.floor(xs), 0, w - 1).astype(int)
    r = np.clip(np.ceil(xs), 0, w - 1).astype(int)
    ly = (ys - np.floor(ys))[:, :, None, None]
    lx = (xs - np.floor(xs))[:, None, :, None]
    def at(rows, cols):
        return image[rows[:, :, None], cols[:, None, :]]
    top = at(t, l) + (at(t, r) - at(t, l)) * lx
    bottom = at(bo, l) + (at(bo, r) - at(bo, l)) * lx
    return np.where(inside[..., None], top + (bottom - top) * ly, 0.0)


# MARK: The pipeline

def sort_desc(boxes, column=4):
    return boxes[np.argsort(boxes[:, column])[::-1]]


def nms(boxes, threshold, method):
    """The package's NMS on rows sorted by score: keep j unless some i < j overlaps it above threshold."""
    if len(boxes) == 0:
        return boxes
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1) * (y2 - y1)
    iw = np.maximum(0, np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None]))
    ih = np.maximum(0, np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None]))
    inter = iw * ih
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "union":
            overlap = inter / (area[:, None] + area[None] - inter)
        else:
            overlap = inter / np.minimum(area[:, None], area[None])
    suppressed = np.triu(overlap > threshold, k=1).any(axis=0)
    return boxes[~suppressed]


def square(boxes):
    boxes = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    boxes[:, 0] += w * 0.5 - side * 0.5
    boxes[:, 1] += h * 0.5 - side * 0.5
    boxes[:, 2] = boxes[:, 0] + side
    boxes[:, 3] = boxes[:, 1] + side
    return boxes


def regress(boxes, offsets):
    boxes = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, :4] += offsets * np.stack([w, h, w, h], axis=1)
    return boxes


def patches(image, boxes, size):
    h, w, _ = image.shape
    norm = boxes[:, [1, 0, 3, 2]] / np.array([h, w, h, w])
    return crop_and_resize(image, norm, size)


def detect(weights, rgb, min_face=20.0, thresholds=(0.6, 0.7, 0.7), trace=None):
    """trace, when a dict, receives each stage's boxes (rows x1, y1, x2, y2, score)."""
    image = (rgb.astype(np.float32) - 127.5) / 128
    h, w, _ = image.shape
    count = round(-((np.log(min(w, h) / 12) / np.log(0.709)) + 1))
    scales = (12 / min_face) * 0.709 ** np.arange(count)
    # rows: x1, y1, x2, y2, score (+ 10 landmark values after O-net)
    per_scale = []
    for scale in scales:
        sh, sw = int(h * scale), int(w * scale)
        if min(sh, sw) < 12:
            continue
        reg, prob = pnet(weights["pnet"], resize_area(image, sh, sw)[None].astype(np.float32))
        score = prob[0, :, :, 1]
        ys, xs = np.where(score > thresholds[0])
        r = reg[0, ys, xs]
        boxes = np.stack([xs * 2 + 1 + r[:, 0] * 11, ys * 2 + 1 + r[:, 1] * 11,
                          xs * 2 + 12 + r[:, 2] * 11, ys * 2 + 12 + r[:, 3] * 11, score[ys, xs]], axis=1)
        boxes = sort_desc(boxes)
        boxes[:, :4] /= scale
        per_scale.append(nms(boxes, 0.5, "union"))
    boxes = np.concatenate(per_scale) if per_scale else np.zeros((0, 5))
    boxes = square(nms(sort_desc(boxes), 0.7, "union"))
    if trace is not None:
        trace["pnet"] = boxes[:, :5].tolist()
    if len(boxes) == 0:
        return []

    reg, prob = rnet(weights["rnet"], patches(image, boxes, 24))
    boxes[:, 4] = prob[:, 1]
    boxes = regress(boxes, reg)
    boxes = boxes[boxes[:, 4] > thresholds[1]]
    boxes = square(nms(sort_desc(boxes), 0.7, "union"))
    if trace is not None:
        trace["rnet"] = boxes[:, :5].tolist()
    if len(boxes) == 0:
        return []

    reg, marks, prob = onet(weights["onet"], patches(image, boxes, 48))
    bw = boxes[:, 2:3] - boxes[:, 0:1] + 1
    bh = boxes[:, 3:4] - boxes[:, 1:2] + 1
    lx = bw * marks[:, 0:5] + boxes[:, 0:1] - 1
    ly = bh * marks[:, 5:10] + boxes[:, 1:2] - 1
    boxes[:, 4] = prob[:, 1]
    boxes = np.concatenate([regress(boxes, reg), lx, ly], axis=1)
    boxes = boxes[boxes[:, 4] > thresholds[2]]
    boxes = nms(sort_desc(boxes), 0.7, "min")
    faces = []
    for row in boxes:
        x1, x2 = (float(min(max(v, 0), w - 1)) for v in (row[0], row[2]))
        y1, y2 = (float(min(max(v, 0), h - 1)) for v in (row[1], row[3]))
        faces.append({"box": [x1, y1, x2, y2], "score": float(row[4]),
                      "landmarks": [[float(row[5 + i]), float(row[10 + i])] for i in range(5)]})
    return faces


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check")
    p.add_argument("models_dir")
    p = sub.add_parser("ort")
    p.add_argument("models_dir")
    p.add_argument("out_dir")
    p = sub.add_parser("detect")
    p.add_argument("image")
    p.add_argument("--min-face", type=float, default=20.0)
    p.add_argument("--thresholds", type=float, nargs=3, default=[0.6, 0.7, 0.7])
    p.add_argument("--rgb-out")
    p.add_argument("--trace", action="store_true", help="also output each stage's boxes")
    p.add_argument("--resize", type=int, nargs=2, metavar=("WIDTH", "HEIGHT"),
                   help="resize the decoded image first (PIL bilinear), e.g. to time a 640x480 photo")
    args = parser.parse_args()

    if args.command == "check":
        check(args.models_dir, args.wheel)
    elif args.command == "ort":
        write_ort_cases(args.models_dir, args.out_dir)
    else:
        from PIL import Image
        picture = Image.open(args.image).convert("RGB")
        if args.resize:
            picture = picture.resize(tuple(args.resize), Image.BILINEAR)
        rgb = np.asarray(picture)
        if args.rgb_out:
            rgb.astype(np.uint8).tofile(args.rgb_out)
        trace = {} if args.trace else None
        faces = detect(load_weights(args.wheel), rgb, args.min_face, tuple(args.thresholds), trace)
        result = {"width": rgb.shape[1], "height": rgb.shape[0], "faces": faces}
        if trace is not None:
            result["stages"] = trace
        json.dump(result, sys.stdout)
        print()


if __name__ == "__main__":
    main()
