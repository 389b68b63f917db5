#!/usr/bin/env python3
"""Failover behind HAProxy, on loopback (`make failover-test`).

Two `facerpc serve` replicas behind HAProxy (TCP mode, external check running
`facerpc health`, as deploy/haproxy/haproxy.cfg). Eight client threads call
Health/Check through HAProxy, each reconnecting every few calls so that
connections spread over both replicas, and retrying a call on UNAVAILABLE on
a new connection. One replica is killed with SIGKILL under that load.

Passes when:
  * no call failed as the retrying clients see it (and some were retried,
    so the kill really happened under load);
  * HAProxy's stats show the killed replica DOWN;
  * then every new connection lands on the survivor (the killed replica's
    session count stays put while the survivor's grows by as many).

Every process is on 127.0.0.1 and is stopped at the end; the load is bounded
in time. Needs haproxy (scripts/setup.sh failover) and a built facerpc.

    failover_test.py --facerpc-bin .build/release/facerpc
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import facerpc  # noqa: E402
from facerpc import RpcError, StatusCode  # noqa: E402

CLIENTS = 8
CALLS_PER_CONNECTION = 20
LOAD_BEFORE_KILL = 2.0      # seconds
LOAD_AFTER_KILL = 3.0
MAX_TRIES = 20              # per call; a retry waits 50 ms


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_replica(binary, tmp, name):
    proc = subprocess.Popen(
        [binary, "serve", "--unix", os.path.join(tmp, name + ".sock"), "--tcp", "127.0.0.1:0",
         "--models", os.path.join(tmp, "no-models"), "--log-level", "critical"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    deadline = time.time() + 30
    while port is None and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("listening on tcp:"):
            port = int(line.strip().rsplit(":", 1)[1])
    if port is None:
        proc.kill()
        raise RuntimeError(f"replica {name} did not start")
    return proc, port


def haproxy_stats(stats_socket, field=None):
    """{server name: (status, total sessions)} for the facerpc backend, or
    {server name: value of `field`}."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(stats_socket)
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("pxname") == "facerpc_replicas" and row.get("svname") not in ("BACKEND", None):
            out[row["svname"]] = row[field] if field else (row["status"], int(row["stot"] or 0))
    return out


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class LoadClient(threading.Thread):
    """Health calls through the balancer, retried on UNAVAILABLE on a new connection."""

    def __init__(self, target, stop):
        super().__init__(daemon=True)
        self.target, self.stop = target, stop
        self.calls = self.retries = 0
        self.failures = []

    def run(self):
        try:
            self.load()
        except Exception as exc:  # a crash is a failed call too, never a silent pass
            self.failures.append(f"client crashed: {exc!r}")

    def load(self):
        client = None
        used = 0
        while not self.stop.is_set():
            for attempt in range(MAX_TRIES):
                try:
                    if client is None or used >= CALLS_PER_CONNECTION:
                        if client is not None:
                            client.close()
                        client, used = facerpc.Client(self.target, default_timeout=2, connect_timeout=1), 0
                    status = client.health(timeout=2)
                    used += 1
                    if status != "SERVING":
                        self.failures.append(f"status {status}")
                    self.calls += 1
                    break
                except RpcError as exc:
                    if exc.code != StatusCode.UNAVAILABLE:
                        self.failures.append(f"{exc.code.name}: {exc.message}")
                        break
                    self.retries += 1
                    if client is not None:
                        client.close()
                    client = None
                    time.sleep(0.05)
            else:
                self.failures.append(f"UNAVAILABLE {MAX_TRIES} times in a row")
        if client is not None:
            client.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--facerpc-bin", default=os.path.join(ROOT, ".build/release/facerpc"))
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    args = parser.parse_args()
    binary = os.path.abspath(args.facerpc_bin)
    tmp = tempfile.mkdtemp(prefix="facerpc-failover-")
    procs = []
    try:
        r1, p1 = start_replica(binary, tmp, "replica1")
        procs.append(r1)
        r2, p2 = start_replica(binary, tmp, "replica2")
        procs.append(r2)
        lb_port = free_port()
        stats_socket = os.path.join(tmp, "haproxy-stats.sock")
        check = os.path.join(tmp, "facerpc-health-check")
        with open(os.path.join(ROOT, "deploy/haproxy/facerpc-health-check")) as src, open(check, "w") as dst:
            dst.write(src.read().replace("FACERPC_BIN=${FACERPC_BIN:-facerpc}", f"FACERPC_BIN={binary}"))
        os.chmod(check, 0o755)
        # The production settings of deploy/haproxy/haproxy.cfg, on loopback and
        # with faster checks so that the test stays short.
        config = f"""
global
    external-check
    insecure-fork-wanted
    stats socket {stats_socket} mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 3
    option redispatch 1
frontend facerpc
    bind 127.0.0.1:{lb_port}
    default_backend facerpc_replicas
backend facerpc_replicas
    balance roundrobin
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command {check}
    default-server check inter 300ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down on-marked-down shutdown-sessions
    server replica1 127.0.0.1:{p1}
    server replica2 127.0.0.1:{p2}
"""
        with open(os.path.join(tmp, "haproxy.cfg"), "w") as f:
            f.write(config)
        lb = subprocess.Popen([args.haproxy, "-db", "-f", os.path.join(tmp, "haproxy.cfg")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        procs.append(lb)
        wait_for(lambda: os.path.exists(stats_socket), 10, "haproxy's stats socket")
        wait_for(lambda: [s for s, _ in haproxy_stats(stats_socket).values()] == ["UP", "UP"], 10,
                 "both replicas UP")
        # PROCOK: the external check (`facerpc health`) ran and exited 0 on each.
        wait_for(lambda: list(haproxy_stats(stats_socket, "check_status").values()) == ["PROCOK", "PROCOK"], 10,
                 "the external `facerpc health` check to pass on both replicas")

        stop = threading.Event()
        clients = [LoadClient(f"127.0.0.1:{lb_port}", stop) for _ in range(CLIENTS)]
        for c in clients:
            c.start()
        time.sleep(LOAD_BEFORE_KILL)
        before = haproxy_stats(stats_socket)
        calls_before_kill = sum(c.calls for c in clients)
        r1.send_signal(signal.SIGKILL)
        r1.wait()
        killed_at = time.time()
        wait_for(lambda: haproxy_stats(stats_socket)["replica1"][0].startswith("DOWN"), 5, "replica1 marked DOWN")
        detected_after = time.time() - killed_at
        time.sleep(LOAD_AFTER_KILL)
        stop.set()
        for c in clients:
            c.join(10)

        calls = sum(c.calls for c in clients)
        retries = sum(c.retries for c in clients)
        failures = [f for c in clients for f in c.failures]
        print(f"calls {calls} ({calls_before_kill} before the kill), retried on UNAVAILABLE {retries}, failed {len(failures)}")
        print(f"replica1 marked DOWN {detected_after * 1000:.0f} ms after SIGKILL; sessions before the kill: "
              f"replica1 {before['replica1'][1]}, replica2 {before['replica2'][1]}")
        assert before["replica1"][1] > 0 and before["replica2"][1] > 0, "load did not reach both replicas before the kill"
        assert not failures, f"calls failed despite retries: {failures[:5]}"
        assert retries > 0, "no call was retried: the kill did not hit live connections"
        assert calls > calls_before_kill, "no call succeeded after the kill"

        # Out of rotation: every new connection goes to the survivor.
        after = haproxy_stats(stats_socket)
        fresh = 20
        for _ in range(fresh):
            with facerpc.Client(f"127.0.0.1:{lb_port}", default_timeout=2, connect_timeout=1) as client:
                assert client.health(timeout=2) == "SERVING"
        final = haproxy_stats(stats_socket)
        assert final["replica1"][0].startswith("DOWN"), final
        assert final["replica1"][1] == after["replica1"][1], f"a new connection went to the killed replica: {after} -> {final}"
        assert final["replica2"][1] - after["replica2"][1] >= fresh, f"{after} -> {final}"
        print(f"{fresh} new connections after the kill: all on replica2 (replica1 {final['replica1'][0]})")
        print("1 passed, 0 failed")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
