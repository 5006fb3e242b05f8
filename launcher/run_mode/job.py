"""What one run-mode job does: train the config the sweeper wrote, record how it went.

A job is told only where its run is: a local worker its number (it then claims runs
of its launch one after another, :func:`run_worker`), a SLURM task its launch and
task index (:func:`slurm_task`). Everything else it reads from the launch's folder
(:mod:`launcher.run_mode.state`): the command, the folders, the limits, the GPUs,
the run's earlier attempts. It never builds a config: the sweeper wrote
``<launch.config_dir>/<run name>.json`` before launching anything. It records
``running`` and then the outcome in the run's own file, the only writer of it.

A job outlives its sweeper: only a stop asked in the sweep dir (Ctrl-C or SIGTERM to
the sweeper, ``launcher.status --cancel``), its own time limit or SLURM ends its
training. On SLURM, SIGTERM may be a requeue and USR2 says the time limit is near:
the training ignores both (they reach every process of the task) and the job decides
(:class:`SlurmSignals`). A run that starts again (a requeue, a re-run after an
interruption) continues from its last checkpoint with ``--resume`` when its train
script takes it (:func:`resume_folder`).
"""
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional

from launcher.core.errors import SweepError
from launcher.core.status import Status
from launcher.output.interrupts import Handlers, install, restore
from launcher.robomimic.paths import new_run_folders, output_dir_setting, resolve_output_root, timestamp_folders
from launcher.robomimic.resume import RESUME_FLAG, resume_folder
from launcher.run_mode import gpus
from launcher.run_mode.follow import HEARTBEAT_S, SIGTERM_REASON
from launcher.run_mode.state import (
    STATE_DIR,
    LaunchDir,
    LaunchSettings,
    RunEntry,
    done_marker,
    mark_done,
    read_json,
    this_host,
    write_run_record,
)
from launcher.run_mode.training import TrainingResult, run_training


class JobError(Exception):
    """This job could not run its training at all (not a training failure)."""


def run_worker(worker: int, job_output_dir: Path) -> Dict[str, Any]:
    """A local worker: claim the launch's next unclaimed run and train it, until none is left
    or a stop is asked. A new run starts the moment the last one ends: no batch waits."""
    launch = LaunchDir.of_job(job_output_dir)
    settings = _settings(launch)
    launch.save_worker(worker)
    # A lost terminal hangs up the sweeper's process group, workers included: the runs go on.
    hangup = install({signal.SIGHUP: signal.SIG_IGN})
    trained = 0
    try:
        for position, entry in enumerate(launch.entries()):  # streamed: a worker holds one line at a time
            if launch.stopped():
                break
            if launch.claim(position):
                _Job(entry, launch, settings).run()
                trained += 1
    finally:
        restore(hangup)
    return {"worker": worker, "runs": trained}


def slurm_task(sweep_dir: str, launch_id: str, index: int) -> Dict[str, Any]:
    """One task of a launch's job array: train the launch's run ``index``.

    This function is all a task's pickle holds (with its three arguments), so
    submitting 1,000 tasks takes well under a second."""
    launch = LaunchDir(Path(sweep_dir) / STATE_DIR / launch_id)
    settings = _settings(launch)
    entry = launch.entry(index)
    if entry is None:
        raise JobError(f"task {index} is not in {launch.runs_list}")
    return _Job(entry, launch, settings).run()


def _settings(launch: LaunchDir) -> LaunchSettings:
    settings = launch.load_settings()
    if settings is None:
        raise JobError(f"its launch {launch.root} is gone; this job trains nothing")
    return settings


def slurm_task_id() -> Optional[str]:
    """``A_i`` of the SLURM array task this process runs in (None outside one)."""
    array, index = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{index}" if array and index else os.environ.get("SLURM_JOB_ID")


class _Job:
    def __init__(self, entry: RunEntry, launch: LaunchDir, settings: LaunchSettings) -> None:
        self.name = entry.name
        self.launch = launch
        self.settings = settings
        self.record_file = launch.run_file(self.name)
        self.config_path = Path(settings.config_dir) / f"{self.name}.json"
        self.log_path = Path(settings.logs_dir) / f"{self.name}.log"
        self.started = time.time()
        self._last_beat = self.started
        self.task = slurm_task_id() if settings.kind == "slurm" else None
        restarts = int(os.environ.get("SLURM_RESTART_COUNT") or 0) if self.task else 0
        earlier = read_json(self.record_file) or {}
        self.attempt = entry.attempts + restarts + 1
        self.first_started = earlier.get("first_started") or entry.first_started or self.started
        self.requeues = max(int(earlier.get("requeues") or 0), entry.requeues)
        self.signals = SlurmSignals(settings.kind == "slurm")

    def run(self) -> Dict[str, Any]:
        """Train the run and record its outcome; a fault that stops it from starting is its outcome too."""
        try:
            text = self._config_text()
        except JobError as e:
            return self._finish(TrainingResult(Status.FAILED, None, 0.0, f"the job failed: {e}"), None, None)
        config = json.loads(text)
        root = resolve_output_root(
            output_dir_setting(config.get("train", {}).get("output_dir"), config.get("algo_name")),
            self.settings.argv_prefix[1], Path(self.settings.cwd),
        )
        if self.launch.stopped():
            return self._finish(TrainingResult(Status.INTERRUPTED, None, 0.0, "interrupted before it started"),
                                None, None)
        try:
            slot = self._gpu_slot()
        except JobError as e:
            return self._finish(TrainingResult(Status.FAILED, None, 0.0, f"the job failed: {e}"), None, None)
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
        folder = resume_folder(root / self.name, self.settings.resume, self.first_started) \
            if self.attempt > 1 else None
        before = timestamp_folders(root / self.name)
        env = {**os.environ, **self.settings.env, **(slot.env() if slot else {})}
        gpu = slot.manifest_value if slot else None
        argv = [*self.settings.argv_prefix, "--config", str(self.config_path),
                *([RESUME_FLAG] if folder else []), *self.settings.extra_args]
        timeout = None if self.settings.timeout_min is None else self.settings.timeout_min * 60
        try:
            with self.signals:
                result = run_training(
                    argv, self.log_path, Path(self.settings.cwd), env=env, timeout_s=timeout,
                    should_stop=self.should_stop, on_start=lambda pid: self._record_running(pid, gpu, folder),
                    ignore=self.signals.IGNORED if self.signals.active else (), append=self.attempt > 1,
                )
            result = self.signals.explain(result)
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
        output_dir = str(new[-1]) if new else (str(folder) if folder else None)
        result = self._requeue_if_asked(result)
        outcome = self._finish(result, output_dir, gpu)
        if result.status == Status.SUCCEEDED:
            # Recorded only now: a failed or interrupted run is never taken as finished.
            command = self.settings.command_words  # the sweeper's TrainCommand.words, which it checks markers by
            mark_done(done_marker(root, self.name, text, command),
                      {**outcome, "config": str(self.config_path), "log": str(self.log_path), "command": command})
        return outcome

    def _requeue_if_asked(self, result: TrainingResult) -> TrainingResult:
        """SLURM's time limit is near (USR2): requeue the task while requeues remain and the
        run can resume; else the run failed of its time limit."""
        if self.signals.received != signal.SIGUSR2 or result.status == Status.SUCCEEDED:
            return result
        allowed = self.settings.max_requeues
        if not self.settings.resume:
            why = "its train script cannot --resume (launch.resume), so a requeue would start it over"
        elif self.requeues >= allowed:
            why = f"launch.max_requeues={allowed} requeue(s) used"
        else:
            self.requeues += 1
            reason = (f"SLURM's time limit came (SIGUSR2): requeued to resume from its last checkpoint "
                      f"(requeue {self.requeues} of {allowed})")
            stopped = TrainingResult(Status.INTERRUPTED, result.exit_code, result.duration_s, reason)
            self._finish(stopped, None, None)  # recorded before SLURM is asked: the next attempt reads it
            done = subprocess.run(["scontrol", "requeue", str(self.task)], capture_output=True, text=True)
            if done.returncode == 0:
                return stopped
            why = f"scontrol requeue failed: {done.stderr.strip() or done.returncode}"
        return TrainingResult(Status.FAILED, result.exit_code, result.duration_s,
                              f"SLURM's time limit came before the run finished (SIGUSR2), not requeued: {why}; "
                              "raise hydra.launcher.timeout_min")

    def _heartbeat(self) -> None:
        """Touch the record now and then: a sweeper can tell a job that died without a word."""
        now = time.time()
        if now - self._last_beat >= HEARTBEAT_S:
            self._last_beat = now
            with contextlib.suppress(OSError):
                os.utime(self.record_file)

    def _base(self) -> Dict[str, Any]:
        return {"name": self.name, "attempt": self.attempt, "first_started": self.first_started,
                "requeues": self.requeues, "task": self.task}

    def _record_running(self, pid: int, gpu: Any, resumed: Optional[Path]) -> None:
        write_run_record(self.record_file, {
            **self._base(), "status": Status.RUNNING, "host": this_host(), "pid": pid, "pgid": pid,
            "job_pid": os.getpid(), "gpu": gpu, "started": self.started, "resumed_from": str(resumed or "") or None,
        })

    def _finish(self, result: TrainingResult, output_dir: Optional[str], gpu: Any) -> Dict[str, Any]:
        outcome = {
            **self._base(),
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
        """A stop was asked in the sweep dir, the launch is gone, or SLURM signalled this task."""
        self._heartbeat()
        return self.signals.received is not None or self.launch.stopped()


class SlurmSignals:
    """In a SLURM task: catch what SLURM sends every process of the task, and decide.

    SIGTERM comes for ``scancel``, a requeue, a preemption or a node failure alike; the
    training is stopped and the attempt recorded ``interrupted``: whether the run comes
    back is SLURM's to say (:mod:`launcher.run_mode.follow`). SIGUSR2 is submitit's
    signal before the time limit: the run is requeued to resume while
    ``launch.max_requeues`` allows (:meth:`_Job._requeue_if_asked`). The training ignores
    both (:data:`IGNORED`), so it never dies of them before the job decides."""

    IGNORED = (signal.SIGTERM, signal.SIGUSR2)

    def __init__(self, on_slurm: bool) -> None:
        self.active = on_slurm and threading.current_thread() is threading.main_thread()
        self.received: Optional[int] = None
        self._previous: Handlers = {}

    def __enter__(self) -> "SlurmSignals":
        if self.active:
            self._previous = install({sig: self._note for sig in self.IGNORED})
        return self

    def __exit__(self, *exc: object) -> None:
        restore(self._previous)
        self._previous = {}

    def _note(self, signum: int, frame: object) -> None:
        if self.received is None:  # a SIGTERM after USR2 is the requeue's own: the first one says why
            self.received = signum

    def explain(self, result: TrainingResult) -> TrainingResult:
        if self.received != signal.SIGTERM or result.status == Status.SUCCEEDED:
            return result
        return TrainingResult(Status.INTERRUPTED, result.exit_code, result.duration_s, SIGTERM_REASON)

