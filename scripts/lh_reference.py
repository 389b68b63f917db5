#!/usr/bin/env python3
"""onnxruntime reference for models exported by facerpc's ONNXExporter.

  lh_reference.py check MODEL.onnx [--levi-hassner CLASSES]
      Runs the onnx checker and shape inference on MODEL and prints one line
      per node (op, output, inferred shape). With --levi-hassner it also checks,
      independently of the Swift code, that MODEL is the Levi & Hassner (2015)
      network: the layer sequence, kernel sizes, strides, pads, LRN constants,
      weight shapes, and the activation shapes 227 -> 56 -> 27 -> 13 -> 6
      (the pools round down); a trailing Softmax is optional. Exit 1 on mismatch.

  lh_reference.py run MODEL.onnx INPUT.npy OUTDIR [--tensors NAME ...] [--runtime reference]
      Runs MODEL with onnxruntime (CPU, one thread, graph optimisations off)
      on a float32 NCHW input and writes OUTDIR/NAME.npy (float32) for the
      graph output and for each named intermediate tensor (made extra graph
      outputs), so a test can tell which layer a difference starts at.
      '/' and other characters unsafe in file names become '_'.
      --runtime reference uses the onnx package's own Python reference
      evaluator instead: slow, but it follows the operator specs where
      onnxruntime restricts them (onnxruntime's LRN accepts odd sizes only).
      Its LRN is replaced by SpecLRN below: the packaged one (onnx 1.23)
      loops over the batch axis where it means the channels.

Test tooling only: the product never runs Python.
"""
import argparse
import os
import re
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def attributes(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def inferred_shapes(model, strict):
    """Per value name, its inferred dims (a symbolic dim as its name).

    Not strict by default: for a ceil-mode pool whose last window would start in
    the padding, the onnx package infers one more output than onnxruntime
    computes (and the exporter declares), which strict mode reports as an error.
    """
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=strict)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
        dims = []
        for d in vi.type.tensor_type.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?"))
        shapes[vi.name] = dims
    return shapes


# (op, attributes that must match, weight dims, output dims after the batch axis)
def levi_hassner_layers(classes):
    pool = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 0, 0, 0], "ceil_mode": 0}
    lrn = {"size": 5, "alpha": 1e-4, "beta": 0.75, "bias": 1.0}
    return [
        ("Conv", {"kernel_shape": [7, 7], "strides": [4, 4], "pads": [0, 0, 0, 0], "group": 1}, [96, 3, 7, 7], [96, 56, 56]),
        ("Relu", {}, None, [96, 56, 56]),
        ("MaxPool", pool, None, [96, 27, 27]),
        ("LRN", lrn, None, [96, 27, 27]),
        ("Conv", {"kernel_shape": [5, 5], "strides": [1, 1], "pads": [2, 2, 2, 2], "group": 1}, [256, 96, 5, 5], [256, 27, 27]),
        ("Relu", {}, None, [256, 27, 27]),
        ("MaxPool", pool, None, [256, 13, 13]),
        ("LRN", lrn, None, [256, 13, 13]),
        ("Conv", {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], "group": 1}, [384, 256, 3, 3], [384, 13, 13]),
        ("Relu", {}, None, [384, 13, 13]),
        ("MaxPool", pool, None, [384, 6, 6]),
        ("Flatten", {"axis": 1}, None, [384 * 6 * 6]),
        ("Gemm", {"transB": 1}, [512, 384 * 6 * 6], [512]),
        ("Relu", {}, None, [512]),
        ("Dropout", {}, None, [512]),
        ("Gemm", {"transB": 1}, [512, 512], [512]),
        ("Relu", {}, None, [512]),
        ("Dropout", {}, None, [512]),
        ("Gemm", {"transB": 1}, [classes, 512], [classes]),
        ("Softmax", {"axis": -1}, None, [classes]),
    ]


def spec_lrn_class():
    from onnx.reference.op_run import OpRun

    class LRN(OpRun):
        """LRN as the ONNX operator spec writes it, over the channel axis:
        square_sum[n, c] = sum of x[n, i]^2 for i in
        [max(0, c - floor((size - 1) / 2)), min(C - 1, c + ceil((size - 1) / 2))],
        y = x / (bias + alpha / size * square_sum) ** beta."""

        op_domain = ""

        def _run(self, x, alpha=None, beta=None, bias=None, size=None):
            channels = x.shape[1]
            below, above = (size - 1) // 2, size // 2
            xd = x.astype(np.float64)
            square_sum = np.zeros_like(xd)
            for c in range(channels):
                lo, hi = max(0, c - below), min(channels - 1, c + above)
                square_sum[:, c] = np.sum(xd[:, lo:hi + 1] ** 2, axis=1)
            return ((xd / (bias + alpha / size * square_sum) ** beta).astype(x.dtype),)

    return LRN


def check_levi_hassner(model, shapes, classes):
    errors = []
    nodes = list(model.graph.node)
    expected = levi_hassner_layers(classes)
    if len(nodes) == len(expected) - 1:
        expected = expected[:-1]  # the logits graph, without Softmax
    if len(nodes) != len(expected):
        return [f"{len(nodes)} nodes, expected {len(expected)} ({' '.join(e[0] for e in expected)})"]
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    inputs = model.graph.input[0].type.tensor_type.shape.dim
    if [d.dim_value for d in inputs[1:]] != [3, 227, 227]:
        errors.append("the input is not [N, 3, 227, 227]")
    for i, (node, (op, attrs, wdims, out)) in enumerate(zip(nodes, expected)):
        where = f"node {i} '{node.name}' ({node.op_type})"
        if node.op_type != op:
            errors.append(f"{where}: expected {op}")
            continue
        got = attributes(node)
        for key, want in attrs.items():
            have = got.get(key)
            if isinstance(want, float):
                ok = have is not None and abs(have - want) <= 1e-7 * max(1.0, abs(want))
            else:
                ok = have == want
            if not ok:
                errors.append(f"{where}: {key} = {have}, expected {want}")
        if op == "Dropout" and len(node.input) > 1 and node.input[1]:
            ratio = float(values[node.input[1]])
            if abs(ratio - 0.5) > 1e-7:
                errors.append(f"{where}: ratio {ratio}, expected 0.5")
        if wdims is not None and weights.get(node.input[1]) != wdims:
            errors.append(f"{where}: weights {weights.get(node.input[1])}, expected {wdims}")
        if wdims is not None and (len(node.input) < 3 or weights.get(node.input[2]) != [wdims[0]]):
            errors.append(f"{where}: bias missing or not [{wdims[0]}]")
        if shapes.get(node.output[0], [None])[1:] != out:
            errors.append(f"{where}: output {node.output[0]} has shape {shapes.get(node.output[0])}, expected [N] + {out}")
    return errors


def check(args):
    model = onnx.load(args.model)
    onnx.checker.check_model(model)
    shapes = inferred_shapes(model, strict=args.levi_hassner is not None)
    opset = {o.domain: o.version for o in model.opset_import}.get("", None)
    print(f"ir_version {model.ir_version}, opset {opset}, {len(model.graph.node)} nodes, "
          f"{len(model.graph.initializer)} initializers")
    for node in model.graph.node:
        print(f"  {node.op_type:18} {node.output[0]:24} {shapes.get(node.output[0])}")
    if args.levi_hassner is not None:
        errors = check_levi_hassner(model, shapes, args.levi_hassner)
        for e in errors:
            print(e, file=sys.stderr)
        if errors:
            sys.exit(1)
        print(f"Levi-Hassner structure with {args.levi_hassner} classes: ok")


def run(args):
    x = np.load(args.input)
    if x.dtype != np.float32:
        sys.exit(f"input {args.input} is {x.dtype}, float32 expected")
    model = onnx.load(args.model)
    outputs = [o.name for o in model.graph.output]
    for name in args.tensors or []:
        if name not in outputs:
            model.graph.output.append(helper.make_empty_tensor_value_info(name))
            outputs.append(name)
    if args.runtime == "reference":
        from onnx.reference import ReferenceEvaluator

        session = ReferenceEvaluator(model, new_ops=[spec_lrn_class()])
        results = session.run(outputs, {model.graph.input[0].name: x})
    else:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        results = session.run(outputs, {session.get_inputs()[0].name: x})
    os.makedirs(args.outdir, exist_ok=True)
    for name, y in zip(outputs, results):
        np.save(os.path.join(args.outdir, safe_name(name) + ".npy"), np.ascontiguousarray(y, dtype=np.float32))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate an exported model (optionally as Levi-Hassner)")
    p.add_argument("model")
    p.add_argument("--levi-hassner", type=int, metavar="CLASSES")
    p.set_defaults(func=check)
    p = sub.add_parser("run", help="run a model with onnxruntime, saving chosen tensors")
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("outdir")
    p.add_argument("--tensors", nargs="*")
    p.add_argument("--runtime", choices=["onnxruntime", "reference"], default="onnxruntime")
    p.set_defaults(func=run)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
