"""Closed-loop load on a grpc.health.v1 server through grpcio's own client
(gRPC C-core), for transports h2load cannot reach (Unix sockets).

    grpc_health_load.py --target unix:/path | 127.0.0.1:PORT --conns C --depth D
                        --seconds S --warmup W [--processes P]

C channels (one HTTP/2 connection each, spread over P processes), each with
D calls in flight on grpc.aio. Prints one JSON object like bench/loadgen/rpc_load.
"""
import argparse
import asyncio
import json
import multiprocessing
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def run_channels(target, conns, depth, warmup, seconds):
    request = health_pb2.HealthCheckRequest()
    start = time.perf_counter()
    measure_from, measure_to = start + warmup, start + warmup + seconds
    latencies = []
    errors = 0

    async def worker(stub):
        nonlocal errors
        while True:
            t0 = time.perf_counter()
            if t0 >= measure_to:
                return
            try:
                response = await stub.Check(request, timeout=5)
                ok = response.status == health_pb2.HealthCheckResponse.SERVING
            except grpc.RpcError:
                ok = False
            t1 = time.perf_counter()
            if not ok:
                errors += 1
            elif measure_from <= t0 and t1 < measure_to:
                latencies.append(t1 - t0)

    channels = [grpc.aio.insecure_channel(target, options=[("grpc.channel_id", i)]) for i in range(conns)]
    await asyncio.gather(*(worker(health_pb2_grpc.HealthStub(ch)) for ch in channels for _ in range(depth)))
    for ch in channels:
        await ch.close()
    return latencies, errors


def process_main(args):
    target, conns, depth, warmup, seconds = args
    return asyncio.run(run_channels(target, conns, depth, warmup, seconds))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--conns", type=int, default=1)
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    processes = max(1, min(args.processes, args.conns))
    shares = [args.conns // processes + (1 if i < args.conns % processes else 0) for i in range(processes)]
    jobs = [(args.target, share, args.depth, args.warmup, args.seconds) for share in shares]
    if processes == 1:
        results = [process_main(jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.map(process_main, jobs)
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    count = len(latencies)
    print(json.dumps({
        "calls": count, "seconds": args.seconds, "calls_per_second": round(count / args.seconds, 1),
        "p50_us": round(latencies[count // 2] * 1e6, 1) if count else 0,
        "p99_us": round(latencies[int(count * 0.99)] * 1e6, 1) if count else 0,
        "errors": errors,
    }))


if __name__ == "__main__":
    main()
