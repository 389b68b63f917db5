#!/usr/bin/env python3
"""Server CPU time per Health/Check call, for facerpc and the C epoll anchor.

Calls per second depend on what else the machine is doing; the CPU a server
spends per call barely does, so this is the figure to compare builds with on
a shared machine (BENCHMARKS.md section 4). For each server, transport and
load it runs bench/loadgen/rpc_load.c once for `--warmup` seconds, then
reads utime + stime of the server process (all threads) from /proc/PID/stat
around a second run of `--seconds` seconds with no warm-up, and divides by
the calls that run completed. Each cell is measured `--runs` times. It also
reports the server's read and write system calls per call (/proc/PID/io):
with many calls in flight, most of the CPU is in those, so fewer calls per
read (a faster server, or a busy client) cost more per call.

    make bench-rpc-cpu                      # or:
    python3 bench/rpc_cpu.py --facerpc-bin .build/release/facerpc [--anchor] [--runs 2]

Needs only cc and python3 (no bench virtual environment).
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rpc_anchors import LOADS, ROOT, Server, build_c, free_port, run_rpc_load  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of every thread of `pid`, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name (field 2) may hold spaces; fields after it are plain.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS   # fields 14 and 15 of proc(5)


def syscalls(pid):
    """read-like and write-like system calls of `pid` so far (/proc/PID/io, syscr + syscw)."""
    with open(f"/proc/{pid}/io") as f:
        fields = dict(line.split(":") for line in f.read().splitlines())
    return int(fields["syscr"]) + int(fields["syscw"])


def measure(exe, server, target, conns, depth, seconds, warmup):
    if warmup > 0:
        run_rpc_load(exe, target, conns, depth, warmup, 0)
    pid = server.proc.pid
    before, calls_before = cpu_seconds(pid), syscalls(pid)
    result = run_rpc_load(exe, target, conns, depth, seconds, 0)
    used, io = cpu_seconds(pid) - before, syscalls(pid) - calls_before
    calls = result["calls"]
    return {"calls": calls, "calls_per_second": result["calls_per_second"], "cpu_seconds": used,
            "cpu_us_per_call": used * 1e6 / calls if calls else float("nan"),
            "io_syscalls_per_call": io / calls if calls else float("nan"), "errors": result["errors"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facerpc-bin", default=os.path.join(ROOT, ".build/release/facerpc"))
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--transports", default="unix,tcp", help="comma-separated: unix,tcp")
    parser.add_argument("--anchor", action="store_true", help="also measure the C epoll anchor")
    args = parser.parse_args()
    exes = build_c()
    tmp = tempfile.mkdtemp(prefix="facerpc-cpu-")
    transports = args.transports.split(",")
    servers = []
    try:
        port = free_port()
        sock = os.path.join(tmp, "facerpc.sock")
        servers.append(("facerpc", Server("facerpc", [args.facerpc_bin, "serve", "--unix", sock, "--tcp", f"127.0.0.1:{port}",
                                                      "--models", os.path.join(tmp, "no-models"), "--log-level", "critical"],
                                          "listening on"), {"unix": sock, "tcp": f"127.0.0.1:{port}"}))
        if args.anchor:
            c_port = free_port()
            c_sock = os.path.join(tmp, "c.sock")
            servers.append(("C epoll", Server("C epoll", [exes["epoll_health_server"], "--unix", c_sock, "--tcp", str(c_port)], "ready"),
                            {"unix": c_sock, "tcp": f"127.0.0.1:{c_port}"}))
        print(f"server CPU per Health/Check call: {args.runs} runs of {args.seconds:g} s after {args.warmup:g} s warm-up; "
              f"load average {os.getloadavg()[0]:.2f} at the start\n")
        print("| server | transport | load | CPU µs/call (each run) | read+write calls per call | calls/s (each run) |")
        print("|---|---|---|---:|---:|---:|")
        for label, conns, depth in LOADS:
            for transport in transports:
                for name, server, targets in servers:
                    runs = [measure(exes["rpc_load"], server, targets[transport], conns, depth, args.seconds, args.warmup)
                            for _ in range(args.runs)]
                    if any(r["errors"] for r in runs):
                        print(f"{name} {transport} {label}: errors {[r['errors'] for r in runs]}", file=sys.stderr)
                    cpu = ", ".join(f"{r['cpu_us_per_call']:.2f}" for r in runs)
                    io = ", ".join(f"{r['io_syscalls_per_call']:.2f}" for r in runs)
                    rate = ", ".join(f"{r['calls_per_second']:,.0f}" for r in runs)
                    print(f"| {name} | {transport} | {label} | {cpu} | {io} | {rate} |", flush=True)
        print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    finally:
        for _, server, _ in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
