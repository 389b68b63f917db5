"""The committed message code matches a fresh regeneration from Protos/."""

import pathlib
import shutil
import subprocess

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "generate.sh"


def test_generated_code_is_up_to_date():
    if shutil.which("protoc") is None:
        pytest.skip("protoc not installed (apt-get install protobuf-compiler)")
    r = subprocess.run([str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    if r.returncode == 2:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stderr
