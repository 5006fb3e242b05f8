"""GPUs shared on one machine: each run sees exactly one device, never more than runs_per_gpu
runs share one at once, and a slot comes back however its holder ends. Tested without GPUs:
the train script records the device it was given and when it ran."""
import json
import os
import subprocess
import sys
from typing import Dict, List

import pandas as pd
import pytest

from launcher.run_mode import gpus
from tests.helpers import REPO, RUN_PY

SLEEPY = REPO / "tests" / "data" / "sleepy_train.py"


@pytest.fixture
def slots(tmp_path, monkeypatch):
    """A private slots folder, so tests never share slots with a real sweep on this machine."""
    folder = tmp_path / "slots"
    monkeypatch.setattr(gpus, "SLOTS_DIR", folder)
    monkeypatch.setenv("ROBOMIMIC_SWEEP_GPU_SLOTS", str(folder))
    return folder


def max_overlap(records: List[Dict], device: str) -> int:
    spans = [(r["start"], r["end"]) for r in records if r["gpu"] == device]
    return max((sum(1 for s, e in spans if s < end and e > start) for start, end in spans), default=0)


@pytest.mark.parametrize(
    "launcher, runs_per_gpu",
    [
        pytest.param("joblib", 1, id="joblib"),
        # The same job code under another launcher; slower to start, so with the integration suite.
        pytest.param("submitit_local", 2, id="submitit_local", marks=pytest.mark.integration),
    ],
)
def test_runs_are_spread_over_the_gpus_within_the_bound(tmp_path, slots, launcher, runs_per_gpu):
    """Also: jobs that change directory (hydra.job.chdir) under a relative sweep dir find their launch."""
    (tmp_path / "data.hdf5").write_bytes(b"x")
    (tmp_path / "sleepy").mkdir()
    env = dict(os.environ, SLEEPY_DIR=str(tmp_path / "sleepy"), SLEEPY_SECONDS="0.3",
               ROBOMIMIC_SWEEP_GPU_SLOTS=str(slots))
    extra = ["hydra.launcher.n_jobs=3"] if launcher == "joblib" else []
    proc = subprocess.run(
        [sys.executable, RUN_PY, "train.seed=range(0,4)", "launch.mode=run", "launch.report=false",
         f"launch.train_script={SLEEPY}", "train.data=data.hdf5", f"train.output_dir={tmp_path / 'trained'}",
         "hydra.sweep.dir=relative_sd", "hydra.job.chdir=true", f"hydra/launcher={launcher}", "launch.gpus=[3,5]",
         f"launch.runs_per_gpu={runs_per_gpu}", *extra],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (tmp_path / "sleepy" / "runs.jsonl").read_text().splitlines()]
    assert len(records) == 4
    assert {r["gpu"] for r in records} == {"3", "5"}, "every run sees one device, and both are used"
    assert all(r["egl"] == r["gpu"] for r in records)
    for device in ("3", "5"):
        assert max_overlap(records, device) <= runs_per_gpu
    table = pd.read_json(tmp_path / "relative_sd" / "manifest.jsonl", lines=True)
    assert list(table["status"]) == ["succeeded"] * 4
    assert sorted(table["gpu"]) == sorted(int(r["gpu"]) for r in records)


def test_the_least_busy_device_is_taken_and_a_full_machine_waits(slots):
    first = gpus.try_take([0, 1], 2)
    second = gpus.try_take([0, 1], 2)
    assert {first.device, second.device} == {0, 1}, "the second run goes to the idle device"
    third, fourth = gpus.try_take([0, 1], 2), gpus.try_take([0, 1], 2)
    assert {third.device, fourth.device} == {0, 1}
    assert gpus.try_take([0, 1], 2) is None, "4 slots, 4 runs: the fifth waits"
    second.release()
    assert gpus.try_take([0, 1], 2).device == second.device


def test_a_slot_comes_back_when_its_holder_dies(slots):
    """Two sweeps share the machine's slots; a killed holder frees its slot (the kernel drops the flock)."""
    code = ("import sys, time; from launcher.run_mode import gpus; "
            "s = gpus.try_take([0], 1); print(s.device, flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, ROBOMIMIC_SWEEP_GPU_SLOTS=str(slots)), cwd=REPO)
    assert holder.stdout.readline().strip() == "0"
    assert gpus.try_take([0], 1) is None, "another process holds the only slot"
    holder.kill()
    holder.wait()
    assert gpus.try_take([0], 1) is not None


def test_auto_uses_the_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,7")
    assert gpus.detect_gpus() == [2, 7]
