"""Helpers for the sweeps on the local SLURM cluster (tools/slurm/start.sh): the command, SLURM's
own accounting, and the leftovers check (this cluster tracks no process tree: an orphan lives on)."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pandas as pd
import pytest

from tests.helpers import REPO, RUN_PY

DATA = REPO / "launcher" / "demo" / "tiny_lift_low_dim.hdf5"
SLEEPY = REPO / "tests" / "data" / "sleepy_train.py"
RESUMABLE = REPO / "tests" / "data" / "resumable_train.py"


def cluster_answers() -> bool:
    if not os.environ.get("SLURM_CONF") or not shutil.which("sinfo"):
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_slurm = pytest.mark.skipif(not cluster_answers(), reason="no SLURM cluster: bash tools/slurm/start.sh && "
                                                                "source /tmp/robomimic-slurm/env.sh")


def sweep(tmp_path: Path, *extra: str, sd: str = "sd", launcher: str = "submitit_slurm") -> List[str]:
    return [sys.executable, RUN_PY, "launch.mode=run", f"train.data={DATA}", f"train.output_dir={tmp_path / 'trained'}",
            f"hydra.sweep.dir={tmp_path / sd}", f"hydra/launcher={launcher}", "train.num_epochs=3", *extra]


def env(tmp_path: Path, **values: str) -> Dict[str, str]:
    """The sweep's environment: SLURM tasks inherit it (sbatch exports the submitting shell's)."""
    (tmp_path / "marks").mkdir(exist_ok=True)
    return dict(os.environ, SLEEPY_DIR=str(tmp_path / "marks"), RESUMABLE_DIR=str(tmp_path / "marks"),
                PYTHONPATH=str(REPO), **values)


def run(args: List[str], env: Optional[Dict[str, str]] = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def status(sweep_dir: Path, *flags: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "launcher.status", str(sweep_dir), *flags], env=dict(os.environ,
               PYTHONPATH=str(REPO)), timeout=timeout)


def manifest(sweep_dir: Path) -> pd.DataFrame:
    return pd.read_json(sweep_dir / "manifest.jsonl", lines=True)


def job_name(sweep_dir: Path) -> str:
    (launch,) = (sweep_dir / ".sweep").iterdir()
    return json.loads((launch / "launch.json").read_text())["job_name"]


def sacct_tasks(name: str) -> List[List[str]]:
    """Every attempt of every task SLURM ran under the job name (``-D``: requeues too)."""
    out = subprocess.run(["sacct", "-n", "-X", "-D", "-P", "--name", name, "-S", "now-2hours", "-o",
                          "JobID,State"], capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def wait_for(what: str, check: Callable[[], bool], timeout: float = 120, every: float = 0.3) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)


def queued(name: str) -> List[str]:
    out = subprocess.run(["squeue", "-h", "-r", "--name", name, "-o", "%i|%T"], capture_output=True,
                         text=True).stdout
    return [line for line in out.splitlines() if line]


def leftovers(tmp_path: Path) -> List[str]:
    """Processes whose command line names the test's folder (trainings, SLURM tasks, workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if str(tmp_path) in command and not zombie:
            found.append(f"{entry}: {command}")
    return found


def no_leftovers(tmp_path: Path, timeout: float = 60) -> None:
    """Nothing of the test may outlive it: wait a while (KillWait), then kill and fail."""
    deadline = time.monotonic() + timeout
    while leftovers(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = leftovers(tmp_path)
    for line in left:
        try:
            os.kill(int(line.split(":")[0]), 9)
        except OSError:
            pass
    assert not left, f"left running: {left}"
