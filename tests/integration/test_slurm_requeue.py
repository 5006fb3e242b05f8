"""A run SLURM requeues (``scontrol requeue``, as a preemption or a node failure would) starts
again with ``--resume`` and continues from its last checkpoint in its own folder (issue 17, item 7).
A requeued task waits about two minutes (BeginTime) before it starts again: this test is long."""
import json
import subprocess

import pytest

from tests.integration.cluster import (
    RESUMABLE,
    env,
    job_name,
    manifest,
    needs_slurm,
    no_leftovers,
    queued,
    run,
    status,
    sweep,
    wait_for,
)

pytestmark = [pytest.mark.integration, needs_slurm]


def test_a_requeued_run_resumes_from_its_last_checkpoint(tmp_path):
    sd, marks = tmp_path / "sd", tmp_path / "marks"
    proc = run(sweep(tmp_path, "train.seed=choice(1)", f"launch.train_script={RESUMABLE}", "train.num_epochs=12",
                     "launch.detach=true"), env=env(tmp_path, RESUMABLE_EPOCH_S="1"))
    assert proc.returncode == 0, proc.stderr
    trained = tmp_path / "trained" / "test_seed_1"
    wait_for("epoch 3", lambda: "Train Epoch 3" in "".join(p.read_text() for p in trained.glob("*/logs/log.txt")),
             timeout=180)
    (task,) = [line.split("|")[0] for line in queued(job_name(sd))]
    subprocess.run(["scontrol", "requeue", task], check=True)

    watched = status(sd, "--watch", timeout=400)
    assert watched.returncode == 0, watched.stderr
    assert "attempts: 2 (1 run(s) started more than once)" in watched.stdout
    (row,) = manifest(sd).to_dict("records")
    assert (row["status"], row["attempts"]) == ("succeeded", 2)
    first, second = [json.loads(line) for line in (marks / "starts.jsonl").read_text().splitlines()]
    assert (first["resumed"], second["resumed"]) == (False, True)
    assert second["folder"] == first["folder"] == row["output_dir"], "it continued in its own folder"
    assert second["first_epoch"] >= 4, "from its last checkpoint, not from epoch 1"
    log = (trained / first["folder"].rsplit("/", 1)[1] / "logs" / "log.txt").read_text()
    assert f"resuming training from epoch {second['first_epoch']}" in log and log.count("Train Epoch 12") == 1
    run_log = (sd / "logs" / "test_seed_1.log").read_text()
    assert run_log.count("$ ") == 2 and "--resume" in run_log.split("$ ")[2], "both attempts in the run's log"
    no_leftovers(tmp_path)
