#!/usr/bin/env python3
"""Side-by-side throughput of facerpc's engine and onnxruntime on the same
networks, machine and run. Prints one table with the ratio ours/onnxruntime.

    .venv/bin/python bench/compare_models.py [--seconds 3] [--models models]
        [--facerpc .build/release/facerpc] [--net age --net gender --net lh-age]
        [--batch 1 --batch 32] [--threads 1 --threads 2] [--repeat 1]

onnxruntime runs with graph optimisation ORT_ENABLE_ALL, intra-op threads =
the thread count and one inter-op thread, on the same .onnx files that
facerpc imports. For Levi-Hassner, both run the same architecture exported by
`facerpc export-onnx` (random seeded weights: speed does not depend on them).
Each configuration alternates ours / onnxruntime so that machine noise hits
both alike. With `--repeat N` each configuration is measured N times, pairs
alternating, and the row gives the median of each side and the median of the
N paired ratios with their range: on a shared 2-vCPU machine a 2-thread
figure can swing by half between seconds, and the paired median is the figure
least moved by it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort


def ort_images_per_second(path, batch, threads, seconds):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [batch] + [int(d) for d in inp.shape[1:]]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(3):
        session.run(None, {inp.name: x})
    runs, start = 0, time.perf_counter()
    while True:
        session.run(None, {inp.name: x})
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return runs * batch / elapsed


def ours(binary, models, net, batch, threads, seconds):
    out = subprocess.run(
        [binary, "bench-model", "--model", net, "--batch", str(batch), "--threads", str(threads),
         "--seconds", str(seconds), "--json", "--models", models],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--models", default="models")
    parser.add_argument("--facerpc", default=".build/release/facerpc")
    parser.add_argument("--net", action="append")
    parser.add_argument("--batch", type=int, action="append")
    parser.add_argument("--threads", type=int, action="append")
    parser.add_argument("--repeat", type=int, default=1, help="paired measurements per row (median reported)")
    args = parser.parse_args()
    nets = args.net or ["age", "gender", "lh-age"]
    batches = args.batch or [1, 32]
    thread_counts = args.threads or [1, 2]

    onnx_paths = {}
    tmp = tempfile.mkdtemp()
    for net in nets:
        if net.startswith("lh-"):
            path = os.path.join(tmp, f"{net}.onnx")
            subprocess.run([args.facerpc, "export-onnx", "--model", net, "--output", path, "--models", args.models],
                           check=True, capture_output=True)
            onnx_paths[net] = path
        else:
            manifest = json.load(open(os.path.join(args.models, net, "model.json")))
            onnx_paths[net] = os.path.join(args.models, net, manifest["weights"])

    print(f"onnxruntime {ort.__version__}; {os.cpu_count()} CPUs; {args.seconds:g} s per measurement")
    repeat = max(1, args.repeat)
    if repeat > 1:
        print(f"medians of {repeat} alternating pairs; ratio: median of the paired ratios [lowest, highest]")
    print(f"| network | batch | threads | facerpc img/s | facerpc GFLOP/s | onnxruntime img/s | ratio |")
    print(f"|---|---|---|---|---|---|---|")
    for net in nets:
        for batch in batches:
            for threads in thread_counts:
                pairs = []
                for _ in range(repeat):
                    mine = ours(args.facerpc, args.models, net, batch, threads, args.seconds)
                    theirs = ort_images_per_second(onnx_paths[net], batch, threads, args.seconds)
                    pairs.append((mine["images_per_second"], mine["gflops"], theirs))
                ratios = [m / t for m, _, t in pairs]
                ratio = f"{statistics.median(ratios):.2f}x"
                if repeat > 1:
                    ratio += f" [{min(ratios):.2f}, {max(ratios):.2f}]"
                print(f"| {net} | {batch} | {threads} | {statistics.median(p[0] for p in pairs):.1f} | "
                      f"{statistics.median(p[1] for p in pairs):.1f} | {statistics.median(p[2] for p in pairs):.1f} | "
                      f"{ratio} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
