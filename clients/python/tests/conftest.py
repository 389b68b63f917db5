"""Starts the real facerpc server for the tests.

The binary is $FACERPC_BIN, else <repo>/.build/debug/facerpc; without it every
server test is skipped with the reason. $FACERPC_MODELS_DIR, when set, is
passed as --models so predict can be checked against real models.
"""

from __future__ import annotations

import os
import pathlib
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Optional

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))  # the package from this checkout, installed or not

SHARED = REPO.parent / "shared" / "data"


def server_binary() -> pathlib.Path:
    return pathlib.Path(os.environ.get("FACERPC_BIN") or REPO / ".build" / "debug" / "facerpc")


@dataclass
class Server:
    proc: subprocess.Popen
    unix: str
    tcp: str  # HOST:PORT
    tmp: tempfile.TemporaryDirectory

    def stop(self, sig: int = signal.SIGTERM, wait: float = 30) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.tmp.cleanup()
        return self.proc.returncode


def _die_with_parent() -> None:
    """In the server's child process: a crashed or killed pytest takes it along (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_server(*extra: str, private_models: bool = False) -> Server:
    """Starts `facerpc serve` on a temporary Unix socket and a free TCP port.

    With `private_models`, the server gets a models folder of its own that
    links to the pretrained models: a test that trains and registers a model
    then writes nothing into the shared folder (which would change the next
    run's version numbers and what `make serve` loads).
    """
    binary = server_binary()
    if not binary.is_file():
        pytest.skip(f"facerpc server binary not found at {binary} (build it with `swift build --product facerpc` or set FACERPC_BIN)")
    tmp = tempfile.TemporaryDirectory(prefix="facerpc-py-")
    sock = os.path.join(tmp.name, "s.sock")
    models = os.environ.get("FACERPC_MODELS_DIR") or "/nonexistent"
    if private_models:
        private = os.path.join(tmp.name, "models")
        os.mkdir(private)
        if os.path.isdir(models):
            for name in os.listdir(models):
                if not name.startswith("lh-"):
                    os.symlink(os.path.join(os.path.abspath(models), name), os.path.join(private, name))
        models = private
    cmd = [str(binary), "serve", "--unix", sock, "--tcp", "127.0.0.1:0", "--enable-debug-service", "--models", models, "--log-level", "warning", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None, preexec_fn=_die_with_parent)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    unix = tcp = None
    buf = b""
    deadline = time.monotonic() + 60
    while (unix is None or tcp is None) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        for line in buf.decode(errors="replace").splitlines():
            if line.startswith("listening on unix:"):
                unix = line[len("listening on unix:"):]
            elif line.startswith("listening on tcp:"):
                tcp = line[len("listening on tcp:"):]
    if unix is None or tcp is None:
        proc.kill()
        proc.wait()
        tmp.cleanup()
        raise RuntimeError(f"server did not report its listeners: {cmd}: {buf!r}")
    # Keep draining stdout so the server can never block on a full pipe.
    threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(fd, 4096), b"")], daemon=True).start()
    return Server(proc, unix, tcp, tmp)


@pytest.fixture(scope="session")
def server():
    s = start_server()
    yield s
    assert s.stop() == 0, "server did not exit 0 on SIGTERM"


@pytest.fixture
def own_server():
    """A server a test may stop; drains quickly so streams end within a second."""
    s = start_server("--drain-grace", "1")
    yield s
    s.stop()
