#!/usr/bin/env python3
"""facerpc's RPC speed beside anchors, in one run (see BENCHMARKS.md).

Health calls/s and p50/p99 latency for two loads -- 1 connection calling one
at a time, and 64 calls in flight over 8 connections -- over a Unix socket and
TCP, for:

  facerpc            `facerpc serve` (1 event-loop thread), Health/Check
  C epoll            bench/anchors/epoll_health_server.c: same framing, the practical limit
  grpcio (aio|sync)  grpcio's stock grpc.health.v1 HealthServicer
  Tornado            a JSON health endpoint (HTTP/1.1), the seed's framework

Load generators: bench/loadgen/rpc_load.c (one C program, epoll, our framing)
for facerpc and the C anchor; h2load (nghttp2's C HTTP/2 generator, sending
gRPC frames) for grpcio over TCP, and grpcio's own C-core client on grpc.aio
(2 processes) over Unix sockets, which h2load cannot reach; wrk (8-deep
pipelining for the 64-in-flight load) for Tornado, TCP only.

Every cell runs `--rounds` times, interleaved with the others, and the median
is reported, since the machine may be shared.

    make bench-rpc        # or: .venv-bench/bin/python bench/rpc_anchors.py
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, ".build-bench")
LOADS = [("1 conn x 1", 1, 1), ("8 conns x 8", 8, 8)]


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def build_c():
    os.makedirs(BUILD, exist_ok=True)
    out = {}
    for name, src in [("epoll_health_server", "bench/anchors/epoll_health_server.c"), ("rpc_load", "bench/loadgen/rpc_load.c")]:
        exe = os.path.join(BUILD, name)
        sh("cc", "-O2", "-Wall", "-Wextra", "-o", exe, os.path.join(ROOT, src))
        out[name] = exe
    return out


class Server:
    def __init__(self, name, argv, ready_line):
        self.name = name
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        seen = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line.strip())
            if sum(1 for l in seen if l.startswith(ready_line)) >= ready_line_count(ready_line):
                return
        self.stop()
        raise RuntimeError(f"{name} did not start: {seen}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ready_line_count(prefix):
    return 2 if prefix == "listening on" else 1


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_rpc_load(exe, target, conns, depth, seconds, warmup):
    flag = "--unix" if target.startswith("/") else "--tcp"
    out = sh(exe, flag, target, "--conns", str(conns), "--depth", str(depth), "--seconds", str(seconds), "--warmup", str(warmup))
    return json.loads(out)


def run_h2load(port, conns, depth, seconds, warmup, body):
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        out = sh("h2load", "-D", f"{seconds:g}", f"--warm-up-time={warmup:g}", "-c", str(conns), "-m", str(depth), "-t", "1",
                 "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers", f"--log-file={log.name}",
                 f"http://127.0.0.1:{port}/grpc.health.v1.Health/Check")
        rows = [line.split("\t") for line in log.read().splitlines() if line.strip()]
    done = [l for l in out.splitlines() if l.startswith("requests:")][0]
    failed = int(done.split(" failed")[0].rsplit(" ", 1)[1]) + int(done.split(" errored")[0].rsplit(" ", 1)[1])
    # The log has every request; keep those started after the warm-up.
    rows.sort(key=lambda r: int(r[0]))
    t0 = int(rows[0][0]) if rows else 0
    lat = sorted(int(r[2]) for r in rows if int(r[0]) >= t0 + warmup * 1e6 and r[1] == "200")
    n = len(lat)
    return {"calls": n, "calls_per_second": n / seconds, "p50_us": lat[n // 2] if n else 0,
            "p99_us": lat[int(n * 0.99)] if n else 0, "errors": failed}


def run_grpc_python(python, target, conns, depth, seconds, warmup):
    out = sh(python, os.path.join(ROOT, "bench/anchors/grpc_health_load.py"), "--target", target, "--conns", str(conns),
             "--depth", str(depth), "--seconds", str(seconds), "--warmup", str(warmup), "--processes", "2")
    return json.loads(out)


def parse_wrk_duration(text):
    for unit, scale in (("us", 1), ("ms", 1e3), ("s", 1e6)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)


def run_wrk(port, conns, depth, seconds, warmup):
    url = f"http://127.0.0.1:{port}/health"
    args = ["wrk", "-t", "1", "-c", str(conns), "--latency"]
    if depth > 1:
        args += ["-s", os.path.join(ROOT, "bench/anchors/pipeline.lua")]
    sh(*args, "-d", f"{max(1, int(warmup))}s", url, *(["--", str(depth)] if depth > 1 else []))
    out = sh(*args, "-d", f"{int(seconds)}s", url, *(["--", str(depth)] if depth > 1 else []))
    result = {"errors": 0}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("50.000%") or (len(parts) == 2 and parts[0] == "50%"):
            result["p50_us"] = parse_wrk_duration(parts[1])
        if line.strip().startswith("99.000%") or (len(parts) == 2 and parts[0] == "99%"):
            result["p99_us"] = parse_wrk_duration(parts[1])
        if line.startswith("Requests/sec:"):
            result["calls_per_second"] = float(parts[1])
        if "Non-2xx" in line or "Socket errors" in line:
            result["errors"] += sum(int(x.strip(",")) for x in parts if x.strip(",").isdigit())
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facerpc-bin", default=os.path.join(ROOT, ".build/release/facerpc"))
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write every measurement here")
    parser.add_argument("--only", help="comma-separated server names to run (facerpc,c,grpcio-aio,grpcio-sync,tornado)")
    args = parser.parse_args()
    for tool in ("h2load", "wrk", "cc"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: run scripts/setup.sh bench")
    exes = build_c()
    python = sys.executable
    tmp = tempfile.mkdtemp(prefix="facerpc-bench-")
    grpc_body = os.path.join(tmp, "health_request.grpc")
    with open(grpc_body, "wb") as f:
        f.write(b"\x00\x00\x00\x00\x00")   # gRPC message frame: uncompressed, 0 bytes (HealthCheckRequest{})

    ports = {k: free_port() for k in ("facerpc", "c", "grpcio-aio", "grpcio-sync", "tornado")}
    socks = {k: os.path.join(tmp, k + ".sock") for k in ("facerpc", "c", "grpcio-aio")}
    specs = {
        "facerpc": lambda: Server("facerpc", [args.facerpc_bin, "serve", "--unix", socks["facerpc"], "--tcp", f"127.0.0.1:{ports['facerpc']}",
                                              "--models", os.path.join(tmp, "no-models"), "--log-level", "critical"], "listening on"),
        "c": lambda: Server("C epoll", [exes["epoll_health_server"], "--unix", socks["c"], "--tcp", str(ports["c"])], "ready"),
        "grpcio-aio": lambda: Server("grpcio aio", [python, os.path.join(ROOT, "bench/anchors/grpc_health_server.py"), "--aio",
                                                    "--tcp", f"127.0.0.1:{ports['grpcio-aio']}", "--unix", socks["grpcio-aio"]], "ready"),
        "grpcio-sync": lambda: Server("grpcio sync", [python, os.path.join(ROOT, "bench/anchors/grpc_health_server.py"),
                                                      "--tcp", f"127.0.0.1:{ports['grpcio-sync']}"], "ready"),
        "tornado": lambda: Server("Tornado", [python, os.path.join(ROOT, "bench/anchors/tornado_health_server.py"), "--port", str(ports["tornado"])], "ready"),
    }
    wanted = args.only.split(",") if args.only else list(specs)
    cells = []   # (server, transport, load label, generator, fn)
    for label, conns, depth in LOADS:
        s, w = args.seconds, args.warmup
        if "facerpc" in wanted:
            cells.append(("facerpc", "unix", label, "rpc_load", lambda c=conns, d=depth: run_rpc_load(exes["rpc_load"], socks["facerpc"], c, d, s, w)))
            cells.append(("facerpc", "tcp", label, "rpc_load", lambda c=conns, d=depth: run_rpc_load(exes["rpc_load"], f"127.0.0.1:{ports['facerpc']}", c, d, s, w)))
        if "c" in wanted:
            cells.append(("C epoll", "unix", label, "rpc_load", lambda c=conns, d=depth: run_rpc_load(exes["rpc_load"], socks["c"], c, d, s, w)))
            cells.append(("C epoll", "tcp", label, "rpc_load", lambda c=conns, d=depth: run_rpc_load(exes["rpc_load"], f"127.0.0.1:{ports['c']}", c, d, s, w)))
        if "grpcio-aio" in wanted:
            cells.append(("grpcio aio", "unix", label, "grpcio client", lambda c=conns, d=depth: run_grpc_python(python, "unix:" + socks["grpcio-aio"], c, d, s, w)))
            cells.append(("grpcio aio", "tcp", label, "h2load", lambda c=conns, d=depth: run_h2load(ports["grpcio-aio"], c, d, s, w, grpc_body)))
        if "grpcio-sync" in wanted:
            cells.append(("grpcio sync", "tcp", label, "h2load", lambda c=conns, d=depth: run_h2load(ports["grpcio-sync"], c, d, s, w, grpc_body)))
        if "tornado" in wanted:
            cells.append(("Tornado", "tcp", label, "wrk", lambda c=conns, d=depth: run_wrk(ports["tornado"], c, d, s, w)))

    servers = []
    try:
        for name in wanted:
            servers.append(specs[name]())
        results = {}
        for r in range(args.rounds):
            for server, transport, label, gen, fn in cells:
                m = fn()
                results.setdefault((server, transport, label, gen), []).append(m)
                print(f"round {r + 1}: {server:12} {transport:4} {label:12} {m['calls_per_second']:>11,.0f}/s  "
                      f"p50 {m['p50_us']:>8.1f} us  p99 {m['p99_us']:>8.1f} us  errors {m.get('errors', 0)}", file=sys.stderr, flush=True)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: {f: statistics.median(m.get(f, 0) for m in v) for f in ("calls_per_second", "p50_us", "p99_us")} | {"errors": sum(m.get("errors", 0) for m in v)}
           for k, v in results.items()}

    def ours(transport, label):
        return med.get(("facerpc", transport, label, "rpc_load"))

    def best(prefix, label, transport=None):
        vals = [v["calls_per_second"] for (s, t, l, g), v in med.items() if s.startswith(prefix) and l == label and (transport is None or t == transport)]
        return max(vals) if vals else None

    print(f"\nHealth/Check, median of {args.rounds} rounds of {args.seconds:g} s (after {args.warmup:g} s warm-up); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end\n")
    print("| server | transport | load | generator | calls/s | p50 µs | p99 µs | errors |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for (server, transport, label, gen), v in med.items():
        us = lambda x: f"{x:.1f}" if x > 0 else "n/a"   # wrk sometimes prints no 99th percentile when pipelining
        print(f"| {server} | {transport} | {label} | {gen} | {v['calls_per_second']:,.0f} | {us(v['p50_us'])} | {us(v['p99_us'])} | {v['errors']} |")
    print("\n| transport | load | facerpc calls/s | facerpc / C epoll | facerpc / best grpcio | facerpc / Tornado |")
    print("|---|---|---:|---:|---:|---:|")
    for label, _, _ in LOADS:
        for transport in ("unix", "tcp"):
            o = ours(transport, label)
            if not o:
                continue
            c = med.get(("C epoll", transport, label, "rpc_load"))
            g = best("grpcio", label)
            t = best("Tornado", label)
            fmt = lambda x: f"{o['calls_per_second'] / x:.2f}x" if x else "-"
            print(f"| {transport} | {label} | {o['calls_per_second']:,.0f} | {fmt(c['calls_per_second'] if c else None)} | {fmt(g)} | {fmt(t)} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"server": k[0], "transport": k[1], "load": k[2], "generator": k[3], "rounds": v} for k, v in results.items()], f, indent=1)


if __name__ == "__main__":
    main()
