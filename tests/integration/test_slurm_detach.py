"""A sweep that outlives its terminal, on the local SLURM cluster (issue 17, item 7): detached and
followed by ``launcher.status``; a killed sweeper and the same command again; a cancel. Every run
trains train_stub.py, or tests/data/sleepy_train.py where a run must be caught in the act."""
import json
import re
import subprocess
import sys
import time

import pytest

from tests.integration.cluster import (
    SLEEPY,
    env,
    job_name,
    manifest,
    needs_slurm,
    no_leftovers,
    queued,
    run,
    sacct_tasks,
    status,
    sweep,
    wait_for,
)

pytestmark = [pytest.mark.integration, needs_slurm]


def test_a_detached_sweep_is_followed_to_the_end_by_status_and_read_by_the_report(tmp_path):
    sd = tmp_path / "sd"
    proc = run(sweep(tmp_path, "train.seed=range(0,30)", "launch.train_script=stub", "launch.detach=true",
                     "hydra.launcher.array_parallelism=2", "train.num_epochs=2"), env=env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^Submitted 30 runs to SLURM as job array \d+ \(job name rmsweep-\w+\)$", proc.stdout, re.M)
    assert f"python -m launcher.status {sd} --watch" in proc.stdout, "it says how to follow"
    name = job_name(sd)
    assert len(queued(name)) >= 25, "it returned while the runs were queued"
    report = run([sys.executable, "-m", "launcher.report", str(sd)], env=env(tmp_path))
    assert report.returncode == 0 and "Traceback" not in report.stderr, "the report reads an unfinished sweep"

    watched = status(sd, "--watch")
    assert watched.returncode == 0, watched.stderr
    assert f"{sd}: 30 runs: 30 done, 0 failed, 0 running, 0 left, 0 skipped" in watched.stdout.split("\n\n")[-2]
    table = manifest(sd)
    assert set(table["status"]) == {"succeeded"} and set(table["attempts"]) == {1}
    tasks = [json.loads(line)["slurm_task"] for line in (sd / "manifest.jsonl").read_text().splitlines()]
    assert sorted(tasks) == sorted(f"{tasks[0].split('_')[0]}_{i}" for i in range(30))
    # sacct lags a few seconds behind the runs' own records.
    wait_for("sacct to account every task", lambda: _all_completed(sacct_tasks(name), 30), timeout=90)
    tasks = sacct_tasks(name)
    assert len(tasks) == 30 and len({task for task, _ in tasks}) == 30, "one array, each task once"
    report = run([sys.executable, "-m", "launcher.report", str(sd)], env=env(tmp_path))
    assert report.returncode == 0 and "30 runs" in report.stdout, report.stdout
    no_leftovers(tmp_path)


def test_a_killed_sweeper_costs_nothing_and_the_same_command_attaches_without_submitting_again(tmp_path):
    sd = tmp_path / "sd"
    args = sweep(tmp_path, "train.seed=1,2,3,4", f"launch.train_script={SLEEPY}", "hydra.launcher.array_parallelism=2",
                 "launch.report=false")
    first = subprocess.Popen(args, env=env(tmp_path, SLEEPY_SECONDS="15"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    wait_for("two runs training", lambda: len(list((tmp_path / "marks").glob("*.pid"))) >= 2, timeout=180)
    first.kill()
    first.communicate()
    name = job_name(sd)

    again = run(args, env=env(tmp_path, SLEEPY_SECONDS="15"))
    assert again.returncode == 0, again.stderr
    assert re.search(r"^Attaching to [1-4] run\(s\) still queued or running from an earlier launch", again.stdout,
                     re.M), again.stdout
    assert "Submitted" not in again.stdout
    table = manifest(sd)
    # A run that ended before the command ran again is skipped (finished before); the others attached.
    assert set(table["status"]) <= {"succeeded", "skipped"} and set(table["attempts"]) <= {0, 1}, table
    # sacct lags a few seconds behind the runs' own records.
    wait_for("sacct to account every task", lambda: _all_completed(sacct_tasks(name), 4), timeout=90)
    tasks = sacct_tasks(name)
    assert len(tasks) == 4 and len({task for task, _ in tasks}) == 4, f"a task ran twice: {tasks}"
    assert len(list((sd / ".sweep").iterdir())) == 1, "no second launch"
    trained = [line for line in (tmp_path / "marks" / "runs.jsonl").read_text().splitlines()]
    assert len(trained) == 4, "each run trained once"
    no_leftovers(tmp_path)


def test_status_cancel_cancels_what_is_queued_or_running_and_records_why(tmp_path):
    sd = tmp_path / "sd"
    proc = run(sweep(tmp_path, "train.seed=1,2,3", f"launch.train_script={SLEEPY}", "launch.detach=true",
                     "hydra.launcher.array_parallelism=1"), env=env(tmp_path, SLEEPY_SECONDS="120"))
    assert proc.returncode == 0, proc.stderr
    wait_for("the first run training", lambda: list((tmp_path / "marks").glob("*.pid")), timeout=180)
    time.sleep(1)
    cancelled = status(sd, "--cancel")
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.startswith("Cancelled 3 run(s)\n"), cancelled.stdout
    why = "cancelled with python -m launcher.status --cancel"
    table = manifest(sd).set_index("name")
    assert set(table["status"]) == {"interrupted"}
    assert table.loc["test_seed_1", "reason"] == why
    assert list(table.loc[["test_seed_2", "test_seed_3"], "reason"]) == [f"not started: {why}"] * 2
    assert queued(job_name(sd)) == [], "--cancel returns once SLURM has ended the tasks"
    assert f"{why}" in status(sd).stdout
    no_leftovers(tmp_path)


def _all_completed(tasks, count: int) -> bool:
    """sacct lists ``count`` task records, all COMPLETED (it adds records a few seconds late, one by one)."""
    return len(tasks) >= count and {state for _, state in tasks} == {"COMPLETED"}
