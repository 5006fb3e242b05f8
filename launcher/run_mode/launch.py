"""Run mode: the sweep's files exactly as script mode writes them, then every run trained.

One pass checks every run, renders its config once and stages it (with ``run.sh``);
nothing is put in place until the whole sweep has passed, the sweep holds the locks
of its targets and has claimed the output folders of the runs it will train. Then
each run that has not finished before becomes one job of Hydra's launcher, told
only its run name. Rows live in memory, small; jobs report through their own files
(:mod:`launcher.run_mode.state`). Ctrl-C or SIGTERM stops every training within a
few seconds, records it ``interrupted`` and exits 130/143; a re-run resumes.
"""
import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from launcher.core.errors import SweepError
from launcher.core.plan import SweepPlan
from launcher.core.status import FINAL, Status
from launcher.output.each_run import RunFiles, write_runs
from launcher.output.interrupts import Interrupts, SweepInterrupted
from launcher.output.locks import Locks, holder_note
from launcher.output.staging import NewFolders, atomic_write, check_writable
from launcher.request.launch_options import LaunchOptions
from launcher.request.overrides import hydra_quote
from launcher.robomimic.paths import check_dataset, output_dir_setting, resolve_output_root
from launcher.robomimic.train_command import TrainCommand
from launcher.robomimic.versions import ENV_VAR, Robomimic, checked_against
from launcher.run_mode import gpus as gpu_slots
from launcher.run_mode.job import alive
from launcher.run_mode.progress import Progress, ProgressMonitor, format_duration
from launcher.run_mode.state import (
    STATE_DIR,
    LaunchDir,
    LaunchSettings,
    Row,
    done_marker,
    manifest_encoder,
    read_json,
    remove_old_launches,
    runs_with_markers,
    this_host,
    write_manifest,
)

DEFAULT_BATCH = 64
SUMMARY_LIMIT = 50
WIND_DOWN_S = 8.0  # how long an interrupted sweep waits for its jobs to record themselves
STALE_S = 90.0  # a running job whose record was not touched for this long is gone


@dataclass(frozen=True)
class HydraJobs:
    """What run mode needs from Hydra: its launcher, the sweep dir, the batch size."""

    launcher: Any  # hydra.plugins.launcher.Launcher
    sweep_dir: Path
    max_batch_size: Optional[int]
    launcher_target: str  # the launcher's _target_, for the checks that depend on it
    save_config: Callable[[Path], None]  # writes multirun.yaml, as Hydra's sweepers do
    slim_jobs: Callable[[], None] = lambda: None  # makes jobs compose only what they need
    # Fits a queue launcher's request to the runs: (launch.timeout_min, most train.num_data_workers).
    fit_launcher: Callable[[Optional[float], int], None] = lambda timeout_min, data_workers: None


def launch_sweep(plan: SweepPlan, options: LaunchOptions, cwd: Path, hydra: HydraJobs,
                 robomimic: Robomimic) -> List[List[Row]]:
    """Write, check and train the whole sweep; raise SweepError if a run failed.

    Returns the launched rows batch by batch, as Hydra's sweepers return their batches.
    """
    return Launch(plan, options, cwd, hydra, robomimic).run()


# The sweep's record of the robomimic it was checked against (and its trainings were told).
ROBOMIMIC_RECORD = "robomimic.json"


class Launch:
    def __init__(self, plan: SweepPlan, options: LaunchOptions, cwd: Path, hydra: HydraJobs,
                 robomimic: Robomimic) -> None:
        self.plan = plan
        self.options = options
        self.cwd = cwd
        self.hydra = hydra
        self.robomimic = robomimic
        self.sweep_dir = hydra.sweep_dir
        self.logs = self.sweep_dir / "logs"
        self.manifest = self.sweep_dir / "manifest.jsonl"
        self.gpus = resolve_gpus(options, hydra.launcher_target)
        self.gpu_slots = gpu_slots.Slots.prepare() if self.gpus else None
        if hydra.max_batch_size is not None and hydra.max_batch_size < 1:
            raise SweepError(f"hydra.sweeper.max_batch_size must be at least 1, got {hydra.max_batch_size}")
        self.batch_size = hydra.max_batch_size or DEFAULT_BATCH

    def run(self) -> List[List[Row]]:
        command = self.options.train_command(self.cwd, run_mode=True, robomimic=self.robomimic)
        with NewFolders() as folders, Interrupts() as interrupts, Locks(holder_note(self.sweep_dir)) as locks:
            self.folders = folders
            runs = self._write(command, locks, interrupts)
            launch, progress = self._start(runs, command)
            interrupts.callbacks.append(lambda signum: stop_trainings(launch, progress.in_flight()))
            try:
                batches = self._run_batches(runs.to_launch, launch, progress)
            except SweepInterrupted as stop:
                interrupts.armed = False
                self._wind_down(launch, progress)
                self._finish(launch, progress)
                print(f"Interrupted by {signal.Signals(stop.signum).name}: "
                      f"{progress.counts[Status.INTERRUPTED]} run(s) stopped and recorded as interrupted, "
                      f"{progress.counts[Status.PENDING]} not started. Run the same command again to resume; "
                      f"manifest: {self.manifest}", file=sys.stderr)
                raise SystemExit(stop.exit_code) from None
            self._finish(launch, progress)
        if self.options.report:
            from launcher.report import after_run  # lazily: matplotlib and the readers load only now

            after_run(str(self.sweep_dir))  # never raises: a report problem is one line on stderr
        failed = [r for r in runs.rows if r.status == Status.FAILED]
        if failed:
            raise SweepError(
                f"{len(failed)} of {len(runs.rows)} runs failed (first: {failed[0].name}: {failed[0].reason}); "
                f"manifest: {self.manifest}"
            )
        return batches

    # -- before launching -------------------------------------------------------

    def _write(self, command: TrainCommand, locks: Locks, interrupts: Interrupts) -> "_Runs":
        """Lock and check the targets, stage every run, claim the output folders of those to
        train, put the files in place: all before anything is launched."""
        for folder in (self.sweep_dir, self.logs):
            check_writable(folder, "hydra.sweep.dir", self.folders)
        locks.lock(self.sweep_dir / STATE_DIR, "the run-mode state of hydra.sweep.dir")
        runs = _Runs(self.plan, self.options, command, self.cwd)
        write_runs(self.plan, self.options, command, locks, self.folders, interrupts, visit=runs.visit,
                   before_commit=lambda: runs.claim(locks, self.folders))
        return runs

    def _start(self, runs: "_Runs", command: TrainCommand) -> Tuple[LaunchDir, Progress]:
        """This launch's own state folder, the settings its jobs read, the first manifest."""
        remove_old_launches(self.sweep_dir)
        launch = LaunchDir.create(self.sweep_dir)
        launch.save_settings(self._settings(launch, command))
        atomic_write(self.sweep_dir / ROBOMIMIC_RECORD, json.dumps(self.robomimic.record(), indent=2) + "\n")
        self.hydra.save_config(self.sweep_dir)
        self.hydra.slim_jobs()
        self.hydra.fit_launcher(self.options.timeout_min, runs.data_workers)
        encode = manifest_encoder(self.plan, self.options.config_dir, self.logs)
        progress = Progress(runs.rows, launch, save=lambda: write_manifest(self.manifest, runs.rows, encode))
        progress.save(force=True)
        self._announce(runs.rows, runs.to_launch, runs.gone)
        return launch, progress

    def _settings(self, launch: LaunchDir, command: TrainCommand) -> LaunchSettings:
        return LaunchSettings(
            launch_id=launch.launch_id,
            sweep_dir=str(self.sweep_dir),
            config_dir=str(self.options.config_dir),
            logs_dir=str(self.logs),
            cwd=str(self.cwd),
            argv_prefix=[command.python, command.script],
            extra_args=list(command.extra_args),
            command_words=list(command.words),
            timeout_min=self.options.timeout_min,
            gpus=None if self.gpus is None else list(self.gpus),
            runs_per_gpu=self.options.runs_per_gpu,
            gpu_slots=None if self.gpu_slots is None else str(self.gpu_slots.folder),
            sweeper_pid=os.getpid(),
            sweeper_host=this_host(),
            env={ENV_VAR: self.robomimic.selection},
            robomimic=self.robomimic.record(),
        )

    def _announce(self, rows: List[Row], to_launch: List[Row], gone: int) -> None:
        skipped = len(rows) - len(to_launch)
        if gone:
            print(f"Training {gone} run(s) again that finished before: their output folders are gone")
        if skipped:
            print(f"Skipping {skipped} of {len(rows)} runs that already finished "
                  "(launch.rerun=true runs them again)")
        if to_launch:
            runs = "run" if len(to_launch) == 1 else "runs"
            print(f"Launching {len(to_launch)} {runs} ({checked_against(self.robomimic)}); "
                  f"configs in {self.options.config_dir}, logs in {self.logs}")

    # -- launching --------------------------------------------------------------

    def _run_batches(self, to_launch: List[Row], launch: LaunchDir, progress: Progress) -> List[List[Row]]:
        batches = [to_launch[start:start + self.batch_size] for start in range(0, len(to_launch), self.batch_size)]
        with ProgressMonitor(progress):
            for start, batch in zip(range(0, len(to_launch), self.batch_size), batches):
                progress.watch(batch)
                overrides = [
                    [f"launch.run={hydra_quote(row.name)}",
                     f"hydra.sweep.subdir={hydra_quote(launch.job_subdir(row.index))}"]
                    for row in batch
                ]
                results: Optional[Sequence[Any]] = None
                error: Optional[BaseException] = None
                try:
                    results = self.hydra.launcher.launch(overrides, initial_job_idx=start)
                except Exception as e:  # the launcher gave up on the batch; judge each run below
                    error = e
                progress.poll()
                self._settle(batch, results, error, progress)
        return batches

    def _settle(self, batch: List[Row], results: Optional[Sequence[Any]], error: Optional[BaseException],
                progress: Progress) -> None:
        """Every run of a finished batch gets its outcome, even if its job left none."""
        for i, row in enumerate(batch):
            result = results[i] if results is not None and i < len(results) else None
            outcome = _job_outcome(result) if result is not None else None
            if _ended_by_queue(outcome) and row.status in (Status.PENDING, Status.RUNNING, Status.FAILED):
                # The queue's word names the cause (scancel, a node failure); the job's own
                # record, if it wrote one, says only what its training saw (killed by SIGTERM).
                detail = f" (the run: {row.reason})" if row.status == Status.FAILED and row.reason else ""
                progress.set(row, status=Status.FAILED, reason=f"{outcome}{detail}")
            elif row.status in FINAL:
                continue
            elif isinstance(outcome, dict):
                progress.set(row, **outcome)
            elif outcome is not None:
                progress.set(row, status=Status.FAILED,
                             reason=f"the job failed before recording an outcome: {_one_line(outcome)}")
            elif row.status == Status.RUNNING:
                self._await(row, progress, error)
            else:
                progress.set(row, status=Status.FAILED, reason=f"not run: the launcher failed: {_one_line(error)}")

    def _await(self, row: Row, progress: Progress, error: Optional[BaseException]) -> None:
        """A running job whose launcher gave up on its batch: wait for its outcome, or for it
        to be gone (its process, on this machine; its record going stale, elsewhere)."""
        record_file = progress.launch.run_file(row.name)
        job_pid = _on_this_host(row, "job_pid")
        while row.status not in FINAL:
            progress.poll()
            if row.status in FINAL:
                return
            if job_pid is not None and not alive(job_pid):
                gone = "its job ended without recording an outcome"
            else:
                try:
                    silent = time.time() - record_file.stat().st_mtime
                except OSError:
                    silent = STALE_S
                gone = f"its job stopped reporting for {STALE_S:.0f} s" if silent >= STALE_S else ""
            if gone:
                progress.set(row, status=Status.FAILED, reason=f"{gone} (the launcher said: {_one_line(error)})")
                return
            time.sleep(0.2)

    # -- winding down -----------------------------------------------------------

    def _wind_down(self, launch: LaunchDir, progress: Progress) -> None:
        """After a signal: give jobs a few seconds to stop and record themselves, then record the rest."""
        deadline = time.monotonic() + WIND_DOWN_S
        while time.monotonic() < deadline and any(_may_still_record(row) for row in progress.in_flight()):
            time.sleep(0.2)
            progress.poll()
        stop_trainings(launch, progress.in_flight(), signal.SIGKILL)
        for row in progress.in_flight():
            if row.status == Status.RUNNING:
                progress.set(row, status=Status.INTERRUPTED, reason="interrupted: the sweep was stopped")

    def _finish(self, launch: LaunchDir, progress: Progress) -> None:
        progress.save(force=True)
        print_summary(progress.rows, progress, self.manifest, self.logs)
        shutil.rmtree(launch.root, ignore_errors=True)


class _Runs:
    """What run mode learns from each run as the single pass goes by: its row, whether it
    finished before, its dataset and output folder, the CPUs its data workers want."""

    def __init__(self, plan: SweepPlan, options: LaunchOptions, command: TrainCommand, cwd: Path) -> None:
        self.plan, self.options, self.command, self.cwd = plan, options, command, cwd
        self.rows: List[Row] = []
        self.to_launch: List[Row] = []
        self.claims: Dict[Path, Set[str]] = defaultdict(set)
        self.data_workers = 0
        self._datasets: Set[Any] = set()
        self._roots: Dict[Any, Path] = {}
        self._finished: Dict[Path, Set[str]] = {}  # per output root: runs with a .sweep_done folder
        self.gone = 0  # runs that finished before, whose output folders are gone

    def visit(self, run: RunFiles) -> None:
        workers = self.plan.value(run.choice, "train.num_data_workers")
        if isinstance(workers, int) and workers > self.data_workers:
            self.data_workers = workers
        data = self.plan.value(run.choice, "train.data")
        seen = data if data is None or isinstance(data, str) else json.dumps(data, sort_keys=True)
        if seen not in self._datasets:
            check_dataset(data, self.cwd, run.name)
            self._datasets.add(seen)
        row = Row(run.index, run.name, run.choice)
        self.rows.append(row)
        root = self._output_root(run)
        marker = self._marker(root, run)
        if marker is not None:
            row.status, row.reason = Status.SKIPPED, "finished before"
            row.output_dir, row.duration_s = marker.get("output_dir"), marker.get("duration_s")
            row.exit_code, row.config, row.log = marker.get("exit_code"), marker.get("config"), marker.get("log")
        else:
            self.to_launch.append(row)
            self.claims[root].add(run.name)

    def _marker(self, root: Path, run: RunFiles) -> Optional[Dict[str, Any]]:
        """The record of this run finished before, with this command, its output still there."""
        if self.options.rerun:
            return None
        if root not in self._finished:
            self._finished[root] = runs_with_markers(root)
        if run.name not in self._finished[root]:
            return None
        marker = read_json(done_marker(root, run.name, run.text, self.command.words))
        output_dir = (marker or {}).get("output_dir")
        if output_dir and not os.path.isdir(output_dir):
            self.gone += 1  # deleted or moved since: its results are no more, so it trains again
            return None
        return marker

    def _output_root(self, run: RunFiles) -> Path:
        value = self.plan.value(run.choice, "train.output_dir")
        if value not in self._roots:
            setting = output_dir_setting(value, self.plan.value(run.choice, "algo_name"))
            self._roots[value] = resolve_output_root(setting, self.command.script, self.cwd)
        return self._roots[value]

    def claim(self, locks: Locks, folders: NewFolders) -> None:
        claim_id = f"{this_host()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        for root, names in self.claims.items():
            check_writable(root, "train.output_dir", folders)
            locks.claim_outputs(root, names, claim_id)


def _may_still_record(row: Row) -> bool:
    """A running row whose job may still write its outcome: one elsewhere, or alive here."""
    if row.status != Status.RUNNING:
        return False
    job_pid = _on_this_host(row, "job_pid")
    return job_pid is None or (alive(job_pid) and job_pid != os.getpid())


def _on_this_host(row: Row, key: str) -> Optional[int]:
    """A process id a running job recorded (``job_pid``, ``pgid``), if it runs on this machine."""
    job = row.job or {}
    return int(job[key]) if job.get(key) and job.get("host") == this_host() else None


def _job_outcome(result: Any) -> Any:
    """A job's returned outcome (a dict), or the exception it ended with."""
    if getattr(getattr(result, "status", None), "name", "") == "FAILED":
        return getattr(result, "_return_value", None)  # what Hydra's run_job caught (unlogged, unlike .return_value)
    return result.return_value


def _ended_by_queue(outcome: Any) -> bool:
    """SLURM ended the run without a result (launcher/run_mode/slurm.py says why)."""
    return type(outcome).__name__ == "SlurmTaskEnded"


def _one_line(error: Optional[BaseException]) -> str:
    if error is None:
        return "unknown error"
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def stop_trainings(launch: LaunchDir, rows: List[Row], sig: int = signal.SIGTERM) -> None:
    """Ask every job to stop, and signal the trainings running on this machine directly."""
    launch.request_stop()
    for row in rows:
        pgid = _on_this_host(row, "pgid")
        if row.status == Status.RUNNING and pgid is not None:
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def resolve_gpus(options: LaunchOptions, launcher_target: str) -> Optional[Tuple[str, ...]]:
    if options.gpus is None:
        return None
    if "SlurmLauncher" in launcher_target:
        raise SweepError(
            "launch.gpus shares this machine's GPUs; on SLURM ask for them per run with "
            "hydra.launcher.gpus_per_node=1 (or hydra/launcher=robomimic_slurm)"
        )
    return gpu_slots.devices(options.gpus)


def print_summary(rows: List[Row], progress: Progress, manifest: Path, logs: Path) -> None:
    """A line per run for small sweeps; counts and the runs that did not succeed for big ones."""
    shown = rows if len(rows) <= SUMMARY_LIMIT else [r for r in rows if r.status in (Status.FAILED, Status.INTERRUPTED)]
    if len(rows) > SUMMARY_LIMIT:
        print(f"{len(rows)} runs: {progress.summary_counts()}; all runs: {manifest}")
    if not shown:
        return
    width = max([len(r.name) for r in shown] + [len("run")])
    print(f"{'run':<{width}}  {'status':<11}  {'duration':>8}  reason / log")
    for r in shown:
        duration = "" if r.duration_s is None else format_duration(r.duration_s)
        says_why = r.status in (Status.FAILED, Status.INTERRUPTED) or r.reason and r.status != Status.SKIPPED
        detail = r.reason if says_why else r.log or str(logs / f"{r.name}.log")
        print(f"{r.name:<{width}}  {r.status:<11}  {duration:>8}  {detail}")
