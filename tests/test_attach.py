"""Re-running the same command in a sweep dir, in process: a run an earlier launch still trains is
attached to and never trained twice; one an earlier launch left interrupted continues from its
last checkpoint (tests/data/resumable_train.py takes --resume as robomimic 0.5.0 does)."""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from launcher.core.errors import SweepError
from launcher.core.status import Status
from launcher.run_mode.state import LaunchDir, LaunchSettings, RunEntry, run_hash, this_host, write_run_record
from tests.helpers import make_request, manifest_rows, run_mode_in_process, write_in_process

RESUMABLE = Path(__file__).parent / "data" / "resumable_train.py"


@pytest.fixture
def marks(tmp_path, monkeypatch):
    folder = tmp_path / "marks"
    folder.mkdir()
    monkeypatch.setenv("RESUMABLE_DIR", str(folder))
    monkeypatch.setenv("RESUMABLE_EPOCH_S", "0.1")
    return folder


def request(tmp_path: Path, **launch):
    (tmp_path / "data.hdf5").write_bytes(b"x")
    launch = {"mode": "run", **launch}
    return make_request(tmp_path, cli=["train.seed=1,2"], train_script=str(RESUMABLE), report=False,
                        fixed={"train.data": str(tmp_path / "data.hdf5"), "train.output_dir": str(tmp_path / "trained"),
                               "train.num_epochs": 5}, **launch)


def starts(marks: Path):
    path = marks / "starts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_run_interrupted_in_an_earlier_launch_resumes_from_its_last_checkpoint(tmp_path, marks):
    sd = tmp_path / "sd"
    checkpoint = tmp_path / "trained" / "test_seed_1"

    def stop_after_two_epochs() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = [json.loads(p.read_text())["epoch"] for p in checkpoint.glob("*/last.pth") if p.stat().st_size]
            if done and done[0] >= 2:
                next((sd / ".sweep").iterdir()).joinpath("stop").touch()
                return
            time.sleep(0.02)

    threading.Thread(target=stop_after_two_epochs, daemon=True).start()
    with pytest.raises(SweepError, match="2 of 2 runs did not finish"):
        run_mode_in_process(request(tmp_path), sd)
    assert [r["status"] for r in manifest_rows(sd)] == [Status.INTERRUPTED] * 2

    time.sleep(1.5)  # the next attempt starts well after the folder was made: it still resumes there
    run_mode_in_process(request(tmp_path), sd)
    rows = manifest_rows(sd)
    assert [(r["status"], r["attempts"]) for r in rows] == [(Status.SUCCEEDED, 2), (Status.SUCCEEDED, 1)]
    first, again, other = starts(marks)
    assert (first["name"], again["name"], other["name"]) == ("test_seed_1",) * 2 + ("test_seed_2",)
    assert again["resumed"] and again["folder"] == first["folder"] == rows[0]["output_dir"]
    assert again["first_epoch"] >= 3, "from its last checkpoint"
    assert not other["resumed"], "a run that never started starts afresh"
    log = (sd / "logs" / "test_seed_1.log").read_text()
    assert log.count("$ ") == 2 and "--resume" in log.split("$ ")[2], "both attempts in the run's log"


def test_resume_false_starts_every_attempt_afresh(tmp_path, marks):
    sd = tmp_path / "sd"
    first = LaunchDir.create(sd)
    settings_and_record(tmp_path, first, "interrupted", job_pid=None)
    folder = tmp_path / "trained" / "test_seed_1" / time.strftime("%Y%m%d%H%M%S")
    (folder / "logs").mkdir(parents=True)
    (folder / "last.pth").write_text(json.dumps({"epoch": 2}))
    run_mode_in_process(request(tmp_path, resume=False), sd)
    assert [s["resumed"] for s in starts(marks)] == [False, False]
    assert [r["attempts"] for r in manifest_rows(sd)] == [2, 1], "the attempt counts all the same"


def settings_and_record(tmp_path: Path, launch: LaunchDir, status: str, job_pid, extra_args=()) -> None:
    """An earlier launch of the same sweep, as a sweeper killed meanwhile left it: run test_seed_1
    in ``status``, test_seed_2 never started."""
    req = request(tmp_path)
    write_in_process(request(tmp_path, mode="script", python=sys.executable))
    config = (req.options.config_dir / "test_seed_1.json").read_text()
    command = [sys.executable, str(RESUMABLE)]
    launch.save_settings(LaunchSettings(
        launch_id=launch.launch_id, sweep_dir=str(tmp_path / "sd"), config_dir=str(req.options.config_dir),
        logs_dir=str(tmp_path / "sd" / "logs"), cwd=str(tmp_path), argv_prefix=command, extra_args=list(extra_args),
        command_words=[*command, *extra_args], timeout_min=None, gpus=None, runs_per_gpu=1, gpu_slots=None,
        sweeper_pid=2 ** 22 + 7, sweeper_host=this_host(), resume="only_folder"))
    launch.save_runs([RunEntry("test_seed_1", hash=run_hash(config, [*command, *extra_args])),
                      RunEntry("test_seed_2")])
    write_run_record(launch.run_file("test_seed_1"), {
        "name": "test_seed_1", "status": status, "attempt": 1, "first_started": time.time() - 5,
        "host": this_host(), "pid": job_pid, "pgid": job_pid, "job_pid": job_pid})


def test_a_run_an_earlier_launch_still_trains_is_attached_to_not_trained_twice(tmp_path, marks):
    sd = tmp_path / "sd"
    earlier = LaunchDir.create(sd)
    job = subprocess.Popen(["sleep", "30"])  # the earlier launch's job, still alive
    try:
        settings_and_record(tmp_path, earlier, "running", job_pid=job.pid)

        def finish() -> None:  # that job records its run's outcome a moment later
            time.sleep(1.5)
            write_run_record(earlier.run_file("test_seed_1"), {
                "name": "test_seed_1", "status": "succeeded", "attempt": 1, "exit_code": 0, "duration_s": 9.0,
                "reason": ""})

        threading.Thread(target=finish, daemon=True).start()
        out = run_mode_in_process(request(tmp_path), sd)
    finally:
        job.kill()
        job.wait()
    assert "Attaching to 1 run(s) still queued or running from an earlier launch" in out
    assert "Launching 1 run (" in out
    assert [s["name"] for s in starts(marks)] == ["test_seed_2"], "test_seed_1 was not trained again"
    rows = manifest_rows(sd)
    assert [r["status"] for r in rows] == [Status.SUCCEEDED] * 2
    assert rows[0]["duration_s"] == 9.0, "the outcome the earlier launch's job recorded"
    assert earlier.root.is_dir(), "a launch a run was attached to is kept"


def test_a_run_an_earlier_launch_still_trains_with_another_command_is_refused(tmp_path, marks):
    sd = tmp_path / "sd"
    earlier = LaunchDir.create(sd)
    settings_and_record(tmp_path, earlier, "running", job_pid=os.getpid(), extra_args=["--debug"])
    with pytest.raises(SweepError, match=r"run test_seed_1 is still running \(a job of this machine\) from an earlier "
                                         r"launch in .*, with another config or command: let it finish, or cancel it "
                                         r"with python -m launcher.status .* --cancel. Nothing was written."):
        run_mode_in_process(request(tmp_path), sd)
    assert starts(marks) == []


def test_launches_no_task_can_use_are_removed_at_the_next_start(tmp_path, marks):
    sd = tmp_path / "sd"
    dead = LaunchDir.create(sd)
    settings_and_record(tmp_path, dead, "interrupted", job_pid=None)
    run_mode_in_process(request(tmp_path), sd)
    assert not dead.root.exists()
    assert len(list((sd / ".sweep").iterdir())) == 1


@pytest.mark.parametrize("robomimic", ["master", "0.5.0"])
def test_the_stub_resumes_as_the_selected_robomimic(tmp_path, robomimic):
    """An interrupted run of train_stub.py speaking a robomimic that takes --resume continues in its
    folder from last.pth, as that robomimic's train.py would."""
    from launcher.robomimic.train_command import stub_train_script

    sd = tmp_path / "sd"
    (tmp_path / "data.hdf5").write_bytes(b"x")
    fixed = {"train.data": str(tmp_path / "data.hdf5"), "train.output_dir": str(tmp_path / "trained"),
             "train.num_epochs": 4}
    req = make_request(tmp_path, cli=["train.seed=choice(1)"], mode="run", train_script="stub", report=False,
                       robomimic=robomimic, fixed=fixed)
    write_in_process(make_request(tmp_path, cli=["train.seed=choice(1)"], train_script="stub", python=sys.executable,
                                  robomimic=robomimic, fixed=fixed))
    config_file = req.options.config_dir / "test_seed_1.json"
    config = config_file.read_text()
    # The earlier attempt: two epochs trained, then the sweep was stopped.
    half = tmp_path / "half.json"
    half.write_text(json.dumps({**json.loads(config), "train": {**json.loads(config)["train"], "num_epochs": 2}}))
    started = time.time() - 1
    subprocess.run([sys.executable, str(stub_train_script()), "--config", str(half)], check=True, capture_output=True,
                   env={**os.environ, "ROBOMIMIC_SWEEP_ROBOMIMIC": robomimic}, stdin=subprocess.DEVNULL)
    command = [sys.executable, str(stub_train_script())]
    words = list(req.options.train_command(tmp_path, run_mode=True, robomimic=req.robomimic).words)
    earlier = LaunchDir.create(sd)
    earlier.save_settings(LaunchSettings(
        launch_id=earlier.launch_id, sweep_dir=str(sd), config_dir=str(req.options.config_dir),
        logs_dir=str(sd / "logs"), cwd=str(tmp_path), argv_prefix=command, extra_args=[], command_words=words,
        timeout_min=None, gpus=None, runs_per_gpu=1, gpu_slots=None, sweeper_pid=2 ** 22 + 7,
        sweeper_host=this_host()))
    earlier.save_runs([RunEntry("test_seed_1", hash=run_hash(config, words))])
    write_run_record(earlier.run_file("test_seed_1"), {"name": "test_seed_1", "status": "interrupted", "attempt": 1,
                                                        "first_started": started})
    run_mode_in_process(req, sd)
    (row,) = manifest_rows(sd)
    assert (row["status"], row["attempts"]) == (Status.SUCCEEDED, 2)
    (folder,) = [p for p in (tmp_path / "trained" / "test_seed_1").iterdir() if not p.name.startswith(".")]
    log = (folder / "logs" / "log.txt").read_text()
    assert "resuming training from epoch 3" in log and "Train Epoch 1" in log and log.count("Train Epoch 4") == 1
