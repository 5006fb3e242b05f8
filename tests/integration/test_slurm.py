"""Sweeps on a real SLURM cluster (tools/slurm/start.sh), through Hydra's submitit launchers.

Skipped unless SLURM_CONF points at a cluster that answers (``source
/tmp/robomimic-slurm/env.sh`` after starting it; .ci/run does both). Every run
trains train_stub.py, or tests/data/sleepy_train.py where a run must be caught
in the act.
"""
import os
import re
import subprocess
import time
from pathlib import Path
from typing import List

import pytest

from tests.helpers import REPO
from tests.integration.cluster import SLEEPY, job_name, manifest, needs_slurm, queued, run, sweep

pytestmark = [pytest.mark.integration, needs_slurm]


def sbatch_files(tmp_path: Path, sd: str = "sd") -> List[str]:
    return [p.read_text() for p in (tmp_path / sd / ".submitit").rglob("*_submission.sh")]


def test_the_shipped_sweep_trains_on_slurm_and_a_rerun_skips(tmp_path):
    proc = run(sweep(tmp_path, "sweep=bc_rnn_hyper", "experiment.name=bc_rnn_hyper",
                     f"launch.train_script={REPO / 'train_stub.py'}"))
    assert proc.returncode == 0, proc.stderr
    table = manifest(tmp_path / "sd")
    assert len(table) == 8 and set(table["status"]) == {"succeeded"}
    assert all(Path(d).is_dir() for d in table["output_dir"])
    assert "[sweep] 8 done, 0 failed, 0 running, 0 left" in proc.stderr

    proc = run(sweep(tmp_path, "sweep=bc_rnn_hyper", "experiment.name=bc_rnn_hyper",
                     f"launch.train_script={REPO / 'train_stub.py'}", sd="sd2"))
    assert proc.returncode == 0 and "Skipping 8 of 8 runs" in proc.stdout
    assert not (tmp_path / "sd2" / ".submitit").exists(), "nothing was submitted"


def test_a_failing_run_is_failed_with_its_reason(tmp_path):
    proc = run(sweep(tmp_path, "train.seed=1,2,3", f"launch.train_script={REPO / 'tests/data/seed_decides_train.py'}"))
    assert proc.returncode == 1 and "2 of 3 runs failed" in proc.stderr and "Traceback" not in proc.stderr
    assert list(manifest(tmp_path / "sd")["reason"]) == ["", "exit code 3: something went wrong", "CUDA out of memory"]


def test_scancel_of_a_running_and_a_queued_run_fails_them_and_the_sweep_ends(tmp_path):
    (tmp_path / "sleepy").mkdir()
    env = dict(os.environ, SLEEPY_DIR=str(tmp_path / "sleepy"), SLEEPY_SECONDS="25")
    proc = subprocess.Popen(sweep(tmp_path, "train.seed=1,2,3", f"launch.train_script={SLEEPY}",
                                  "hydra.launcher.array_parallelism=1"),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "sleepy").glob("*.pid")):
        assert time.monotonic() < deadline and proc.poll() is None, "the first run did not start"
        time.sleep(0.2)
    tasks = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True).stdout.split("\n")
    running = [t.split()[0] for t in tasks if t.endswith("RUNNING")]
    queued = [t.split()[0] for t in tasks if t.endswith("PENDING")]
    assert len(running) == 1 and len(queued) == 2, tasks
    last_queued = max(queued, key=lambda t: int(t.split("_")[1]))
    subprocess.run(["scancel", last_queued], check=True)
    time.sleep(2)
    subprocess.run(["scancel", running[0]], check=True)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    table = manifest(tmp_path / "sd").set_index("name")
    assert table.loc["test_seed_1", "status"] == "interrupted"
    assert table.loc["test_seed_1", "reason"].startswith("cancelled in SLURM (CANCELLED by 0")
    assert table.loc["test_seed_3", "status"] == "interrupted"
    assert table.loc["test_seed_3", "reason"].startswith("cancelled before it started")
    assert table.loc["test_seed_2", "status"] == "succeeded"


def test_launch_timeout_min_ends_a_run_and_sets_slurms_limit_with_submitits_margin(tmp_path):
    (tmp_path / "sleepy").mkdir()
    env = dict(os.environ, SLEEPY_DIR=str(tmp_path / "sleepy"), SLEEPY_SECONDS="60")
    proc = run(sweep(tmp_path, "train.seed=choice(1)", f"launch.train_script={SLEEPY}", "launch.timeout_min=0.05",
                     "hydra.launcher.timeout_min=1"), env=env)
    assert proc.returncode == 1, proc.stderr
    assert list(manifest(tmp_path / "sd")["reason"]) == ["timed out after 0.05 min"]
    # The run's own limit is 0.05 min; SLURM's must leave room for submitit's USR2, which comes
    # signal_delay_s (120) before it and up to a minute early: 1 + ceil(180 / 60) + 1 = 5.
    (sbatch,) = sbatch_files(tmp_path)
    assert re.search(r"^#SBATCH --time=5$", sbatch, re.M), sbatch
    assert re.search(r"^#SBATCH --signal=USR2@120$", sbatch, re.M)


def test_the_robomimic_slurm_preset_with_a_limit_below_its_default(tmp_path):
    proc = run(sweep(tmp_path, "train.seed=1,2", f"launch.train_script={REPO / 'train_stub.py'}",
                     "train.num_data_workers=1", "hydra.launcher.gpus_per_node=null", "hydra.launcher.mem_gb=1",
                     "launch.timeout_min=30", launcher="robomimic_slurm"))
    assert proc.returncode == 0, proc.stderr
    assert set(manifest(tmp_path / "sd")["status"]) == {"succeeded"}
    (sbatch,) = sbatch_files(tmp_path)
    assert re.search(r"^#SBATCH --cpus-per-task=2$", sbatch, re.M), "num_data_workers + 1"
    # 30 min + submitit's margin (USR2 at signal_delay_s=120 before the limit, up to a minute early,
    # a minute to start): 34, not the preset's 2,880 (which would hurt backfill).
    assert re.search(r"^#SBATCH --time=34$", sbatch, re.M), sbatch
    assert re.search(r"^#SBATCH --mem=1GB$", sbatch, re.M)
    assert "export MUJOCO_GL=egl" in sbatch


def test_a_request_the_cluster_can_never_meet_fails_instead_of_waiting_forever(tmp_path):
    """This node has 2 CPUs: a run asking for 3 would pend (PartitionConfig) for ever."""
    proc = run(sweep(tmp_path, "train.seed=1,2", f"launch.train_script={REPO / 'train_stub.py'}",
                     "hydra.launcher.cpus_per_task=3"), timeout=120)
    assert proc.returncode == 1, proc.stderr
    reasons = set(manifest(tmp_path / "sd")["reason"])
    assert len(reasons) == 1 and next(iter(reasons)).startswith(
        "not started: SLURM cannot start it: pending with reason PartitionConfig"), reasons
    assert queued(job_name(tmp_path / "sd")) == [], "the sweep cancelled what it submitted"
