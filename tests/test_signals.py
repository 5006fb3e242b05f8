"""Signals and time limits, for real: a sweep process, its trainings, and what is left after.

The train script (tests/data/sleepy_train.py) writes its pid and sleeps, so each
test can see whether a training outlives what should have stopped it.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pandas as pd
import pytest

from tests.helpers import REPO, RUN_PY

SLEEPY = REPO / "tests" / "data" / "sleepy_train.py"


def start_sweep(tmp_path: Path, *extra: str, seconds: float = 60, sd: str = "sd") -> subprocess.Popen:
    (tmp_path / "data.hdf5").write_bytes(b"x")
    (tmp_path / "sleepy").mkdir(exist_ok=True)
    env = dict(os.environ, SLEEPY_DIR=str(tmp_path / "sleepy"), SLEEPY_SECONDS=str(seconds))
    args = [sys.executable, RUN_PY, "train.seed=1,2", "launch.mode=run", f"launch.train_script={SLEEPY}",
            f"train.data={tmp_path / 'data.hdf5'}", f"train.output_dir={tmp_path / 'trained'}",
            f"hydra.sweep.dir={tmp_path / sd}", "launch.report=false", *extra]
    return subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL)


def wait_for_pids(tmp_path: Path, count: int, timeout: float = 30) -> List[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list((tmp_path / "sleepy").glob("*.pid"))
        texts = [f.read_text() for f in files]
        if len(files) >= count and all(texts):
            return [int(t) for t in texts]
        time.sleep(0.05)
    raise AssertionError(f"{count} trainings did not start within {timeout} s")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: List[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    assert not any(alive(p) for p in pids), f"trainings still running: {[p for p in pids if alive(p)]}"


def manifest(tmp_path: Path, sd: str = "sd") -> pd.DataFrame:
    return pd.read_json(tmp_path / sd / "manifest.jsonl", lines=True)


@pytest.mark.parametrize(
    "sig, code, launcher, parallel",
    [
        pytest.param(signal.SIGTERM, 143, "basic", 1, id="SIGTERM-basic"),
        pytest.param(signal.SIGINT, 130, "joblib", 2, id="SIGINT-joblib"),
    ],
)
def test_a_signal_stops_every_training_records_it_and_a_rerun_resumes(tmp_path, sig, code, launcher, parallel):
    extra = [] if launcher == "basic" else [f"hydra/launcher={launcher}", "hydra.launcher.n_jobs=2"]
    sweep = start_sweep(tmp_path, *extra)
    pids = wait_for_pids(tmp_path, parallel)
    sent = time.monotonic()
    sweep.send_signal(sig)
    out, err = sweep.communicate(timeout=30)
    assert sweep.returncode == code, err
    assert time.monotonic() - sent < 10, "the sweep took too long to stop"
    wait_gone(pids, timeout=2)
    assert "Traceback" not in err, err
    assert f"Interrupted by {signal.Signals(sig).name}" in err and "Run the same command again to resume" in err
    table = manifest(tmp_path)
    assert list(table["status"]) == ["interrupted"] * 2, list(table["reason"])
    not_started = [r for r in table["reason"] if r.startswith("not started: cancelled: the sweeper was stopped")]
    assert len(not_started) == 2 - parallel, list(table["reason"])
    assert "interrupted" in out  # the summary table was printed
    assert not list((tmp_path / "trained").rglob(".sweep_done/*")), "an interrupted run is not finished"
    if launcher != "basic":
        return  # resuming is the same whichever launcher was stopped

    resumed = start_sweep(tmp_path, seconds=0)
    _, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    assert set(manifest(tmp_path)["status"]) == {"succeeded"}


def test_sigkill_of_the_sweeper_leaves_no_training_running(tmp_path):
    sweep = start_sweep(tmp_path)
    pids = wait_for_pids(tmp_path, 1)
    sweep.kill()
    sweep.communicate(timeout=10)
    wait_gone(pids, timeout=5)


def test_a_run_over_its_time_limit_fails_and_the_sweep_goes_on(tmp_path):
    sweep = start_sweep(tmp_path, "launch.timeout_min=0.02", seconds=3)  # 1.2 s: the second run starts after it
    out, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 1 and "2 of 2 runs failed" in err and "Traceback" not in err
    table = manifest(tmp_path)
    assert list(table["status"]) == ["failed", "failed"]
    assert set(table["reason"]) == {"timed out after 0.02 min"}
    assert all(d < 3 for d in table["duration_s"]), "the runs were not stopped at their limit"
    wait_gone([int(f.read_text()) for f in (tmp_path / "sleepy").glob("*.pid")], timeout=2)


def test_ctrl_c_while_writing_configs_writes_nothing(tmp_path):
    """A big script-mode sweep interrupted mid-way: exit 130, no config, no staging left."""
    proc = subprocess.Popen([sys.executable, RUN_PY, "train.seed=range(0,20000)", "train.batch_size=1,2",
                             f"hydra.sweep.dir={tmp_path / 'sd'}"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any(p.name.startswith(".rmsweep-staging") for p in (tmp_path / "sd").glob(".*")) \
            if (tmp_path / "sd").exists() else True:
        assert time.monotonic() < deadline and proc.poll() is None, "the sweep did not start writing"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "nothing was written" in err
    assert os.listdir(tmp_path / "sd") == [] if (tmp_path / "sd").exists() else True
