"""grpcio's standard grpc.health.v1 server, as an RPC-speed anchor.

    grpc_health_server.py [--tcp HOST:PORT] [--unix PATH] [--aio]

The stock HealthServicer from grpcio-health-checking, overall status SERVING,
on grpcio's synchronous server (a thread pool, its default shape) or, with
--aio, on grpc.aio. Prints "ready" once listening; stops on SIGTERM.
"""
import argparse
import asyncio
import signal
import sys
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


def addresses(args):
    out = []
    if args.tcp:
        out.append(args.tcp)
    if args.unix:
        out.append("unix:" + args.unix)
    return out


def serve_sync(args):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers))
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    for address in addresses(args):
        server.add_insecure_port(address)
    server.start()
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    server.wait_for_termination()


async def serve_aio(args):
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    for address in addresses(args):
        server.add_insecure_port(address)
    await server.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tcp")
    parser.add_argument("--unix")
    parser.add_argument("--aio", action="store_true")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    if not addresses(args):
        sys.exit("give --tcp and/or --unix")
    if args.aio:
        asyncio.run(serve_aio(args))
    else:
        serve_sync(args)


if __name__ == "__main__":
    main()
