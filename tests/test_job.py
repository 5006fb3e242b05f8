"""One run-mode job in this process: what it records when its training cannot start, leaves
processes behind, or writes a huge log. The trainings are tiny scripts (a subprocess each);
the job reads its launch's folder exactly as under Hydra."""
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pytest

from launcher.core.status import Status
from launcher.run_mode.job import alive, run_job
from launcher.run_mode.state import LaunchDir, LaunchSettings, read_json, this_host

NAME = "run_seed_1"


def run_one(tmp_path: Path, argv_prefix: Sequence[str], extra_args: Sequence[str] = ()) -> Dict[str, Any]:
    """Train ``NAME`` with ``argv_prefix`` (python, script) as a job of a fresh launch; its outcome."""
    configs, trained = tmp_path / "configs", tmp_path / "trained"
    configs.mkdir(exist_ok=True)
    config = {"algo_name": "bc", "experiment": {"name": NAME}, "train": {"output_dir": str(trained)}}
    (configs / f"{NAME}.json").write_text(json.dumps(config))
    launch = LaunchDir.create(tmp_path / "sd")
    launch.save_settings(LaunchSettings(
        launch_id=launch.launch_id, sweep_dir=str(tmp_path / "sd"), config_dir=str(configs),
        logs_dir=str(tmp_path / "sd" / "logs"), cwd=str(tmp_path), argv_prefix=list(argv_prefix),
        extra_args=list(extra_args), command_words=[*argv_prefix, *extra_args], timeout_min=None, gpus=None,
        runs_per_gpu=1, gpu_slots=None,
        sweeper_pid=os.getpid(), sweeper_host=this_host(),
    ))
    outcome = run_job(NAME, launch.jobs / "0")
    assert read_json(launch.run_file(NAME)) == outcome, "the job's record says what it returned"
    return outcome


def script(tmp_path: Path, body: str) -> List[str]:
    path = tmp_path / "train.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def test_an_interpreter_that_vanished_fails_the_run_and_says_so(tmp_path):
    """Not `interrupted: the sweep was stopped`: the sweep was not stopped, and must not exit 0."""
    gone = str(tmp_path / "venv" / "bin" / "python")
    outcome = run_one(tmp_path, [gone, str(tmp_path / "train.py")])
    assert (outcome["status"], outcome["reason"]) == (Status.FAILED, f"cannot start {gone}: No such file or directory")
    assert "cannot start" in (tmp_path / "sd" / "logs" / f"{NAME}.log").read_text()


def test_a_fault_of_the_job_itself_is_a_failure_not_an_interruption(tmp_path, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("launcher.run_mode.job.run_training", broken)
    with pytest.raises(RuntimeError):
        run_one(tmp_path, script(tmp_path, "print('finished run successfully!')"))
    record = read_json(next((tmp_path / "sd" / ".sweep").glob(f"*/runs/{NAME}.json")))
    assert (record["status"], record["reason"]) == (Status.FAILED, "the job failed: RuntimeError: disk on fire")


def test_a_failed_training_is_judged_from_the_end_of_a_huge_log_in_bounded_memory(tmp_path):
    import tracemalloc

    from launcher.run_mode.training import judge

    log = tmp_path / "run.log"
    log.write_bytes(b"$ python train.py\n" + b"x" * (8 << 20) + b"\nRuntimeError: CUDA out of memory\n")
    tracemalloc.start()
    try:
        result = judge(1, log, 1.0, output_start=len("$ python train.py\n"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.status, result.reason) == (Status.FAILED, "exit code 1: RuntimeError: CUDA out of memory")
    assert peak < 2 << 20, f"judging an 8 MB log held {peak >> 20} MB"


LEAVES_A_CHILD = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import os, signal, sys, time
if sys.argv[1] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[2], "w").write(str(os.getpid()))
while True:
    time.sleep(0.05)
    print("still writing to the run's log", flush=True)
''', "{how}", "{pid_file}"])
while True:
    try:
        if open("{pid_file}").read():
            break
    except OSError:
        pass
print("finished run successfully!")
"""


@pytest.mark.parametrize("how", ["polite", "stubborn"], ids=["ends-on-SIGTERM", "ignores-SIGTERM"])
def test_what_a_training_leaves_running_is_ended_with_the_run_and_named(tmp_path, monkeypatch, how):
    """A child in the training's process group outlived the run (its parent became PID 1),
    kept writing to the run's log after it was recorded, and kept its GPU."""
    from launcher.run_mode import training

    monkeypatch.setattr(training, "GRACE_S", 0.3)
    pid_file = tmp_path / "child.pid"
    outcome = run_one(tmp_path, script(tmp_path, LEAVES_A_CHILD.format(how=how, pid_file=pid_file)))
    child = int(pid_file.read_text())
    assert not alive(child), "the child outlived its run"
    assert outcome["status"] == Status.SUCCEEDED
    assert outcome["reason"].startswith(f"ended 1 process(es) it left running: {child} (python")
    log = tmp_path / "sd" / "logs" / f"{NAME}.log"
    assert log.read_text().endswith(f"[robomimic-sweep] the training exited; {outcome['reason']}\n")
