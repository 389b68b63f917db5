#!/usr/bin/env python3
"""Reference outputs for facerpc's ONNX parity tests.

  onnx_reference.py run MODEL.onnx INPUT.npy OUTPUT.npy
      Runs MODEL with onnxruntime (CPU, one thread, graph optimisations off,
      as the models' manifest prescribes) on a float32 NCHW input and writes
      the first output as float32 .npy.

  onnx_reference.py chip IMAGE OUTPUT.npy --size S [--model-json model.json | --mean R G B --scale K]
      Makes a model input from a face photo: RGB, resized to S x S (bilinear),
      (byte - mean[c]) * scale, NCHW with batch 1. Needs Pillow.

Test tooling only: the product never runs Python.
"""
import argparse
import json
import sys

import numpy as np


def run(args):
    import onnxruntime as ort

    x = np.load(args.input)
    if x.dtype != np.float32:
        sys.exit(f"input {args.input} is {x.dtype}, float32 expected")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    y = session.run(None, {name: x})[0]
    np.save(args.output, np.ascontiguousarray(y, dtype=np.float32))


def chip(args):
    from PIL import Image

    if args.model_json:
        with open(args.model_json) as f:
            spec = json.load(f)["input"]
        mean, scale = spec["mean"], spec["scale"]
    elif args.mean and args.scale is not None:
        mean, scale = args.mean, args.scale
    else:
        sys.exit("chip needs --model-json or --mean and --scale")
    image = Image.open(args.image).convert("RGB").resize((args.size, args.size), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32)  # H, W, RGB
    x = (pixels - np.asarray(mean, dtype=np.float32)) * np.float32(scale)
    np.save(args.output, np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a model with onnxruntime")
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("output")
    p.set_defaults(func=run)
    p = sub.add_parser("chip", help="make a normalised model input from a photo")
    p.add_argument("image")
    p.add_argument("output")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--model-json")
    p.add_argument("--mean", type=float, nargs=3)
    p.add_argument("--scale", type=float)
    p.set_defaults(func=chip)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
