"""facerpc-py's exit codes and output against the real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import HERE, SHARED


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "facerpc", *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_health_serving_is_0(server):
    r = run_cli("--unix", server.unix, "health")
    assert (r.returncode, r.stdout.strip()) == (0, "SERVING"), r.stderr
    r = run_cli("health", "--tcp", server.tcp)  # options after the command work too
    assert (r.returncode, r.stdout.strip()) == (0, "SERVING"), r.stderr


def test_health_unknown_service_is_1(server):
    r = run_cli("--tcp", server.tcp, "health", "--service", "no-such-model")
    assert (r.returncode, r.stdout.strip()) == (1, "SERVICE_UNKNOWN"), r.stderr


def test_health_unreachable_is_2(tmp_path):
    r = run_cli("--unix", str(tmp_path / "none.sock"), "health")
    assert r.returncode == 2
    assert "UNAVAILABLE" in r.stderr


def test_health_timeout_is_2():
    import socket

    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    try:
        host, port = lst.getsockname()
        r = run_cli("--tcp", f"{host}:{port}", "--timeout", "0.3", "health")
        assert r.returncode == 2
        assert "DEADLINE_EXCEEDED" in r.stderr
    finally:
        lst.close()


def test_predict_unreachable_is_2(tmp_path):
    img = tmp_path / "x.jpg"
    img.write_bytes(b"\xff\xd8\xff")
    r = run_cli("--unix", str(tmp_path / "none.sock"), "predict", str(img))
    assert r.returncode == 2, r.stderr


def test_predict_json(server):
    image = SHARED / "detection" / "demo_smahesh29" / "man1.jpg"
    if not image.is_file():
        pytest.skip(f"test image {image} not found")
    r = run_cli("--unix", server.unix, "predict", str(image), "--json")
    if r.returncode != 0 and "UNIMPLEMENTED" in r.stderr:
        assert r.returncode == 1  # a failed call, not an unreachable server
        pytest.skip(f"server does not implement Predictor/Predict yet: {r.stderr.strip()}")
    if r.returncode == 1 and not os.environ.get("FACERPC_MODELS_DIR"):
        pytest.skip(f"predict failed with no models installed (set FACERPC_MODELS_DIR): {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["image"] == str(image) and doc["is_human"] is True
    face = doc["faces"][0]
    assert set(face) >= {"box", "score", "landmarks", "age", "gender"}
    assert set(face["age"]) >= {"years", "bucket", "confidence"}
    assert face["gender"]["label"] in ("male", "female")
    assert "total" in doc["timings_ms"]


def test_missing_image_is_1(server, tmp_path):
    r = run_cli("--unix", server.unix, "predict", str(tmp_path / "missing.jpg"))
    assert r.returncode == 1
    assert "missing.jpg" in r.stderr


def test_models_command(server):
    r = run_cli("--unix", server.unix, "models", "--json")
    if r.returncode == 1 and "UNIMPLEMENTED" in r.stderr:
        pytest.skip(f"server does not implement Models/List yet: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        doc = json.loads(line)
        assert doc["name"] and doc["state"] in ("LOADING", "SERVING", "UNAVAILABLE")
