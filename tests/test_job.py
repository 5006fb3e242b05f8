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
from launcher.run_mode.follow import alive
from launcher.run_mode.job import run_worker
from launcher.run_mode.state import LaunchDir, LaunchSettings, RunEntry, read_json, this_host

NAME = "run_seed_1"


def run_one(tmp_path: Path, argv_prefix: Sequence[str], extra_args: Sequence[str] = (), **settings: Any,
            ) -> Dict[str, Any]:
    """Train ``NAME`` with ``argv_prefix`` (python, script) by a worker of a fresh launch; its record."""
    configs, trained = tmp_path / "configs", tmp_path / "trained"
    configs.mkdir(exist_ok=True)
    config = {"algo_name": "bc", "experiment": {"name": NAME}, "train": {"output_dir": str(trained)}}
    (configs / f"{NAME}.json").write_text(json.dumps(config))
    launch = LaunchDir.create(tmp_path / "sd")
    launch.save_settings(LaunchSettings(
        launch_id=launch.launch_id, sweep_dir=str(tmp_path / "sd"), config_dir=str(configs),
        logs_dir=str(tmp_path / "sd" / "logs"), cwd=str(tmp_path), argv_prefix=list(argv_prefix),
        extra_args=list(extra_args), command_words=[*argv_prefix, *extra_args], timeout_min=None, gpus=None,
        runs_per_gpu=1, gpu_slots=None, sweeper_pid=os.getpid(), sweeper_host=this_host(), **settings,
    ))
    launch.save_runs([RunEntry(NAME)])
    assert run_worker(0, launch.jobs / "0") == {"worker": 0, "runs": 1}
    return read_json(launch.run_file(NAME))


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


# -- SLURM's signals, decided by the job (the requeue itself is tested on the cluster) --------

def slurm_job(tmp_path: Path, received: int, **settings: Any):
    from launcher.run_mode.job import _Job

    launch = LaunchDir.create(tmp_path / "sd")
    job = _Job(RunEntry(NAME), launch, LaunchSettings(
        launch_id=launch.launch_id, sweep_dir=str(tmp_path / "sd"), config_dir=str(tmp_path), logs_dir=str(tmp_path),
        cwd=str(tmp_path), argv_prefix=[sys.executable, "train.py"], extra_args=[],
        command_words=[sys.executable, "train.py"], timeout_min=None, gpus=None,
        runs_per_gpu=1, gpu_slots=None, sweeper_pid=1, sweeper_host=this_host(), kind="slurm", **settings))
    job.signals.received = received
    return job


@pytest.mark.parametrize("settings, requeues, reason", [
    ({"resume": None, "max_requeues": 3}, 0, "its train script cannot --resume (launch.resume), so a requeue would "
                                             "start it over"),
    ({"resume": "only_folder", "max_requeues": 1}, 1, "launch.max_requeues=1 requeue(s) used"),
])
def test_slurms_time_limit_fails_a_run_that_cannot_be_requeued_to_resume(tmp_path, settings, requeues, reason):
    import signal

    from launcher.run_mode.training import TrainingResult

    job = slurm_job(tmp_path, signal.SIGUSR2, **settings)
    job.requeues = requeues
    result = job._requeue_if_asked(TrainingResult(Status.INTERRUPTED, -9, 60.0, "interrupted: the sweep was stopped"))
    assert (result.status, result.reason) == (
        Status.FAILED, f"SLURM's time limit came before the run finished (SIGUSR2), not requeued: {reason}; "
                       "raise hydra.launcher.timeout_min")


def test_slurms_sigterm_is_an_interruption_not_a_failure(tmp_path):
    """A requeue, a preemption, a node failure and scancel all send SIGTERM: SLURM says which."""
    import signal

    from launcher.run_mode.follow import SIGTERM_REASON
    from launcher.run_mode.training import TrainingResult

    job = slurm_job(tmp_path, signal.SIGTERM)
    result = job.signals.explain(TrainingResult(Status.INTERRUPTED, -9, 5.0, "interrupted: the sweep was stopped"))
    assert (result.status, result.reason) == (Status.INTERRUPTED, SIGTERM_REASON)
    assert job.should_stop(), "the training is stopped"


def test_the_folder_a_run_resumes_in(tmp_path):
    import time

    from launcher.robomimic.resume import resume_folder

    run = tmp_path / NAME
    started = time.time() - 60
    old, new = time.strftime("%Y%m%d%H%M%S", time.localtime(started - 3600)), time.strftime("%Y%m%d%H%M%S")
    (run / new).mkdir(parents=True)
    assert resume_folder(run, "only_folder", started) is None, "no last.pth yet: start afresh"
    (run / new / "last.pth").write_text("{}")
    assert resume_folder(run, "only_folder", started) == run / new
    assert resume_folder(run, None, started) is None, "a train script without --resume"
    (run / old).mkdir()
    (run / old / "last.pth").write_text("{}")
    assert resume_folder(run, "only_folder", started) is None, "robomimic 0.5.0 asserts one folder"
    assert resume_folder(run, "latest_folder", started) == run / new
    assert resume_folder(run, "latest_folder", time.time() + 3600) is None, "not this run's: made before it started"


def test_which_train_scripts_take_resume(tmp_path):
    from launcher.robomimic.resume import resume_rule

    data = Path(__file__).parent / "data"
    newest = tmp_path / "master_like.py"
    newest.write_text('parser.add_argument("--resume", action="store_true")\n'
                      'time_dir = sorted(os.listdir(base_output_dir))[-1]\n')
    assert resume_rule(str(data / "resumable_train.py")) == "only_folder"
    assert resume_rule(str(newest)) == "latest_folder"
    assert resume_rule(str(data / "sleepy_train.py")) is None
    assert resume_rule(str(tmp_path / "gone.py")) is None


@pytest.mark.parametrize("name, rule", [("0.3.0", None), ("0.5.0", "only_folder"), ("master", "latest_folder"),
                                        ("robocasa", None), ("dexmimicgen", "only_folder")])
def test_robomimics_own_train_py_and_the_stub_resume_as_the_selected_robomimic(name, rule):
    from launcher.robomimic.resume import resume_rule
    from launcher.robomimic.selection import select
    from launcher.robomimic.train_command import stub_train_script

    assert resume_rule(str(stub_train_script()), select(name)) == rule
