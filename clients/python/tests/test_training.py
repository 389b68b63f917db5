"""Training through the Python client against a real server with a data root."""

from __future__ import annotations

import csv
import shutil

import pytest

import facerpc
from facerpc import RpcError, StatusCode

from conftest import SHARED, start_server

UTKFACE = SHARED / "utkface"


@pytest.fixture
def data_root(tmp_path):
    if not (UTKFACE / "labels_train.csv").is_file():
        pytest.skip(f"{UTKFACE} not found")
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    with open(UTKFACE / "labels_train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    picked = [r for r in rows if r["gender"] == "female"][:6] + [r for r in rows if r["gender"] == "male"][:6]
    with open(root / "train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "age", "gender"])
        for r in picked:
            shutil.copy(UTKFACE / r["path"], root / r["path"])
            w.writerow([r["path"], r["age"], r["gender"]])
    return root


def test_train_watch_report(data_root, tmp_path):
    server = start_server("--data-root", str(data_root), "--state-dir", str(tmp_path / "state"), private_models=True)
    try:
        with facerpc.Client(server.unix) as c:
            started = c.train(task="gender", data="train.csv", steps=6, batch_size=4, checkpoint_every=3,
                              validation_fraction=0.25, optimizer="adam", learning_rate=1e-4, threads=2,
                              model_name="lh-gender-py", timeout=60)
            assert started.state == "RUNNING" and started.job_id
            with pytest.raises(RpcError) as busy:
                c.train(task="gender", data="train.csv", steps=6, timeout=60)
            assert busy.value.code == StatusCode.FAILED_PRECONDITION
            updates = list(c.watch_training(started.job_id, timeout=600))
            final = updates[-1]
            assert final.state == "SUCCEEDED", final.error
            assert final.done and final.step == 6 and final.version == "1"
            assert [u.step for u in updates] == sorted(u.step for u in updates)
            report = c.train_report(started.job_id, timeout=60)
            assert report.task == "gender" and report.labels == ["female", "male"]
            assert report.examples == 3  # 25% of 12 held out
            assert sum(map(sum, report.confusion)) == 3
            assert len(report.curve) == 6
            with pytest.raises(RpcError) as outside:
                c.train(task="gender", data="../../etc/passwd", steps=1, timeout=60)
            assert outside.value.code == StatusCode.INVALID_ARGUMENT
    finally:
        assert server.stop() == 0
