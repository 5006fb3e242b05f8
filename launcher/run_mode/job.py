"""What one run-mode Hydra job does: train the config the sweeper wrote, record how it went.

The job is told only its run (``launch.run=<run name>``); everything else it reads
from its launch's folder (:mod:`launcher.run_mode.state`): the command, the
folders, the time limit, the GPUs. It never builds a config: the sweeper wrote
``<launch.config_dir>/<run name>.json`` before launching anything. It records
``running`` and then the outcome in its own file, and returns the outcome (which
Hydra's launcher hands back to the sweeper).
"""
import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional

from launcher.core.errors import SweepError
from launcher.core.status import Status
from launcher.robomimic.paths import new_run_folders, output_dir_setting, resolve_output_root, timestamp_folders
from launcher.run_mode import gpus
from launcher.run_mode.state import (
    LaunchDir,
    LaunchSettings,
    done_marker,
    mark_done,
    this_host,
    write_run_record,
)
from launcher.run_mode.training import TrainingResult, run_training

HEARTBEAT_S = 20.0  # a running job touches its record this often


class JobError(Exception):
    """This job could not run its training at all (not a training failure)."""


def run_job(run: str, job_output_dir: Path) -> Dict[str, Any]:
    """Train run ``run`` of the launch whose job folder is ``job_output_dir``."""
    launch = LaunchDir.of_job(job_output_dir)
    settings = launch.load_settings()
    if settings is None:
        raise JobError(f"its launch {launch.root} is over; an orphan job of an ended sweep trains nothing")
    job = _Job(run, launch, settings)
    return job.run()


class _Job:
    def __init__(self, name: str, launch: LaunchDir, settings: LaunchSettings) -> None:
        self.name = name
        self.launch = launch
        self.settings = settings
        self.record_file = launch.run_file(name)
        self.config_path = Path(settings.config_dir) / f"{name}.json"
        self.log_path = Path(settings.logs_dir) / f"{name}.log"
        self.started = time.time()
        self._last_beat = self.started

    def run(self) -> Dict[str, Any]:
        text = self._config_text()
        config = json.loads(text)
        root = resolve_output_root(
            output_dir_setting(config.get("train", {}).get("output_dir"), config.get("algo_name")),
            self.settings.argv_prefix[1], Path(self.settings.cwd),
        )
        if self.should_stop():
            stopped = TrainingResult(Status.INTERRUPTED, None, 0.0, "interrupted before it started")
            return self._finish(stopped, None, None)
        slot = self._gpu_slot()
        if self.settings.gpus and slot is None:
            return self._finish(TrainingResult(Status.INTERRUPTED, None, 0.0, "interrupted while waiting for a GPU"),
                                None, None)
        try:
            return self._train(text, root, slot)
        finally:
            if slot is not None:
                slot.release()

    def _config_text(self) -> str:
        try:
            return self.config_path.read_text()
        except OSError as e:
            raise JobError(f"cannot read its config {self.config_path}: {e.strerror}") from None

    def _gpu_slot(self) -> Optional[gpus.GpuSlot]:
        if not self.settings.gpus or not self.settings.gpu_slots:
            return None
        try:
            slots = gpus.Slots.at(Path(self.settings.gpu_slots))
            return slots.take(self.settings.gpus, self.settings.runs_per_gpu, self.should_stop)
        except SweepError as e:
            raise JobError(str(e)) from None

    def _train(self, text: str, root: Path, slot: Optional[gpus.GpuSlot]) -> Dict[str, Any]:
        before = timestamp_folders(root / self.name)
        env = {**os.environ, **self.settings.env, **(slot.env() if slot else {})}
        gpu = slot.manifest_value if slot else None
        argv = [*self.settings.argv_prefix, "--config", str(self.config_path), *self.settings.extra_args]
        timeout = None if self.settings.timeout_min is None else self.settings.timeout_min * 60
        try:
            with SlurmSignals() as slurm:
                result = run_training(
                    argv, self.log_path, Path(self.settings.cwd), env=env, timeout_s=timeout,
                    should_stop=self.should_stop, on_start=lambda pid: self._record_running(pid, gpu),
                )
            result = slurm.explain(result)
        except Exception as e:  # a fault of ours, not the training's: say so, never "interrupted"
            self._finish(TrainingResult(Status.FAILED, None, time.time() - self.started,
                                        f"the job failed: {type(e).__name__}: {e}"), None, gpu)
            raise
        except BaseException:
            # Stopped by a signal to the sweeper itself (basic launcher): record it, then go on unwinding.
            self._finish(TrainingResult(Status.INTERRUPTED, None, time.time() - self.started,
                                        "interrupted: the sweep was stopped"), None, gpu)
            raise
        new = new_run_folders(root / self.name, before)
        output_dir = str(new[-1]) if new else None
        outcome = self._finish(result, output_dir, gpu)
        if result.status == Status.SUCCEEDED:
            # Recorded only now: a failed or interrupted run is never taken as finished.
            command = self.settings.command_words  # the sweeper's TrainCommand.words, which it checks markers by
            mark_done(done_marker(root, self.name, text, command),
                      {**outcome, "config": str(self.config_path), "log": str(self.log_path), "command": command})
        return outcome

    def _heartbeat(self) -> None:
        """Touch the record now and then: a sweeper can tell a job that died without a word."""
        now = time.time()
        if now - self._last_beat >= HEARTBEAT_S:
            self._last_beat = now
            with contextlib.suppress(OSError):
                os.utime(self.record_file)

    def _record_running(self, pid: int, gpu: Any) -> None:
        write_run_record(self.record_file, {
            "status": Status.RUNNING, "host": this_host(), "pid": pid, "pgid": pid, "job_pid": os.getpid(), "gpu": gpu,
            "started": self.started, "heartbeat": time.time(),
        })

    def _finish(self, result: TrainingResult, output_dir: Optional[str], gpu: Any) -> Dict[str, Any]:
        outcome = {
            "name": self.name,
            "status": result.status,
            "exit_code": result.exit_code,
            "duration_s": round(result.duration_s, 3),
            "output_dir": output_dir,
            "gpu": gpu,
            "reason": result.reason,
        }
        write_run_record(self.record_file, outcome)
        return outcome

    def should_stop(self) -> bool:
        """The sweep was stopped, its launch ended, or (on the sweeper's machine) the sweeper died."""
        self._heartbeat()
        if self.launch.stopped():
            return True
        if self.settings.sweeper_host != this_host():
            return False
        return not alive(self.settings.sweeper_pid)


class SlurmSignals:
    """In a SLURM job: notice the signals SLURM sends the whole job, to name them in the reason.

    ``scancel`` (or a preemption) sends SIGTERM, and submitit asks for SIGUSR2 shortly
    before the time limit, to every process of the job, the training included. The
    training then dies of that signal; the run's reason says why it came.
    """

    MEANINGS = {
        signal.SIGTERM: "cancelled in SLURM (SIGTERM: scancel, a preemption or the node going down)",
        signal.SIGUSR2: "SLURM's time limit is near (SIGUSR2); raise hydra.launcher.timeout_min, "
                        "or set launch.timeout_min to end runs on time yourself",
    }

    def __init__(self) -> None:
        self.active = bool(os.environ.get("SLURM_JOB_ID")) and threading.current_thread() is threading.main_thread()
        self.received: Optional[int] = None
        self._previous: Dict[int, Any] = {}

    def __enter__(self) -> "SlurmSignals":
        if self.active:
            for sig in self.MEANINGS:
                self._previous[sig] = signal.signal(sig, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _note(self, signum: int, frame: object) -> None:
        self.received = signum

    def explain(self, result: TrainingResult) -> TrainingResult:
        if self.received is None or result.status == Status.SUCCEEDED:
            return result
        reason = f"{self.MEANINGS[self.received]}: {result.reason}" if result.reason else self.MEANINGS[self.received]
        return TrainingResult(Status.FAILED, result.exit_code, result.duration_s, reason)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as dead: its parent has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

