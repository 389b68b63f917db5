#!/usr/bin/env python3
"""Levi-Hassner training throughput: facerpc's trainer beside PyTorch on the CPU.

Both train the same network (conv 96 7x7/4, ReLU, max pool 3/2, LRN 5; conv 256 5x5 pad 2,
ReLU, pool, LRN; conv 384 3x3 pad 1, ReLU, pool; FC 512, ReLU, dropout 0.5; FC 512, ReLU,
dropout; FC classes; softmax cross-entropy) with momentum SGD 0.9, L2 decay on the weights and
global-norm clipping at 4, on the same batch size and thread count, on random 227x227 images.
Each side warms up, then times whole steps (forward, backward, update). The runs alternate
(PyTorch, facerpc) per batch size so both see the same machine state.

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install torch numpy     # from PyPI; benchmarks only (its CUDA runtime wheels come along, unused)
    swift build -c release -Xswiftc -target-cpu -Xswiftc native
    .venv-bench/bin/python bench/train_speed.py --batches 32 128 --threads 2
"""
import argparse
import json
import subprocess
import sys
import time


def torch_images_per_second(batch, threads, steps, warmup, classes):
    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    lrn = dict(size=5, alpha=1e-4, beta=0.75, k=1.0)
    net = nn.Sequential(
        nn.Conv2d(3, 96, 7, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2), nn.LocalResponseNorm(**lrn),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2), nn.LocalResponseNorm(**lrn),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(384 * 6 * 6, 512), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(512, classes),
    )
    net.train()
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": 0.0005 * 0.01}, {"params": biases, "weight_decay": 0}],
                          lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 3, 227, 227) * 2 - 1
    y = torch.randint(0, classes, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 4.0)
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - start)


def facerpc_images_per_second(binary, batch, threads, steps, warmup, classes):
    out = subprocess.run([binary, "bench-train", "--batch", str(batch), "--threads", str(threads), "--steps", str(steps),
                          "--warmup", str(warmup), "--classes", str(classes), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facerpc", default=".build/release/facerpc", help="the facerpc binary (release, -target-cpu native)")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=0, help="timed steps (default: about 256 images, at least 2)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--classes", type=int, default=8)
    args = parser.parse_args()

    import torch
    print(f"torch {torch.__version__} ({torch.backends.mkldnn.is_available() and 'oneDNN' or 'no oneDNN'}), "
          f"threads {args.threads}", flush=True)
    rows = []
    for batch in args.batches:
        steps = args.steps or max(2, 256 // batch)
        theirs = torch_images_per_second(batch, args.threads, steps, args.warmup, args.classes)
        ours = facerpc_images_per_second(args.facerpc, batch, args.threads, steps, args.warmup, args.classes)
        rows.append((batch, steps, theirs, ours))
        print(f"batch {batch:4d} ({steps} steps): pytorch {theirs:7.2f} images/s, facerpc {ours:7.2f} images/s, "
              f"ratio {ours / theirs:.2f}x", flush=True)
    print(json.dumps([{"batch": b, "steps": s, "pytorch_images_per_second": round(t, 2),
                       "facerpc_images_per_second": round(o, 2), "ratio": round(o / t, 3)} for b, s, t, o in rows]))


if __name__ == "__main__":
    sys.exit(main())
