"""Run mode: the sweep's files exactly as script mode writes them, then every run trained.

One pass checks every run, renders its config once and stages it (with ``run.sh``);
nothing is put in place until the whole sweep has passed, the sweep holds the lock
of its sweep dir and has claimed the output folders of the runs it will train.

Runs still queued or running from an earlier launch in the same sweep dir (a sweeper
that detached, lost its terminal or was killed) are attached to, never submitted
twice; the others that have not finished before make one new launch, handed over at
once: on SLURM one job array (:mod:`launcher.run_mode.slurm`), locally one worker job
per parallel slot of Hydra's launcher, each claiming the next run the moment it is
free (:func:`launcher.run_mode.job.run_worker`). Then the sweeper follows the runs'
records (:mod:`launcher.run_mode.progress`) until every run has ended, or, with
``launch.detach=true`` on SLURM, returns at once. The runs never depend on the
sweeper: Ctrl-C or SIGTERM cancels them, but a lost terminal or a SIGKILL costs nothing.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import IO, Any, Dict, List, Optional, Set, Tuple

from launcher.core.errors import SweepError
from launcher.core.plan import SweepPlan
from launcher.core.status import FINAL, Status
from launcher.modes import HydraJobs
from launcher.output.each_run import RunFiles, write_runs
from launcher.output.interrupts import Interrupts, SweepInterrupted, install, restore
from launcher.output.locks import Locks, holder_note
from launcher.output.staging import NewFolders, atomic_file, atomic_write, check_writable
from launcher.request.launch_options import LaunchOptions
from launcher.request.overrides import hydra_quote
from launcher.robomimic.paths import check_dataset, output_dir_setting, resolve_output_root
from launcher.robomimic.resume import resume_rule
from launcher.robomimic.train_command import ROBOMIMIC, STUB, TrainCommand
from launcher.robomimic.versions import ENV_VAR, Robomimic, checked_against
from launcher.run_mode import gpus as gpu_slots
from launcher.run_mode import slurm
from launcher.run_mode.follow import (
    JOB_DIED,
    QUEUED_FOREVER,
    STALE_S,
    alive,
    cancel_runs,
    judge_all,
    not_started,
    on_this_host,
    stop_trainings,
    sweep_rows,
)
from launcher.run_mode.progress import SWEEPER_LOG, Progress, ProgressMonitor, format_duration
from launcher.run_mode.state import (
    LOCAL,
    SLURM,
    STATE_DIR,
    LaunchDir,
    LaunchSettings,
    Row,
    RunEntry,
    done_marker,
    launch_dirs,
    manifest_encoder,
    read_json,
    remove_launch,
    run_hash,
    runs_with_markers,
    this_host,
    write_manifest,
)

SUMMARY_LIMIT = 50
WIND_DOWN_S = 8.0  # how long an interrupted local sweep waits for its jobs to record themselves
CANCEL_WAIT_S = 45.0  # how long an interrupted SLURM sweep waits for its cancelled tasks to end
LIVE = (Status.PENDING, Status.RUNNING)


def launch_sweep(plan: SweepPlan, options: LaunchOptions, cwd: Path, hydra: HydraJobs,
                 robomimic: Robomimic) -> List[List[Row]]:
    """Write, check and train the whole sweep; raise SweepError if a run did not succeed.

    Returns the runs trained, as one batch (Hydra's sweepers return their batches)."""
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
        if options.detach and not hydra.queue:
            raise SweepError(
                "launch.detach=true returns once the runs are submitted to a queue, and needs one "
                "(hydra/launcher=submitit_slurm or robomimic_slurm); this launcher trains in this process's "
                "workers. To keep a local sweep going without a terminal, start it in tmux or screen, or with "
                "nohup ... &")
        self.gpu_slots = gpu_slots.Slots.prepare() if self.gpus else None
        if hydra.max_batch_size is not None and hydra.max_batch_size < 1:
            raise SweepError(f"hydra.sweeper.max_batch_size must be at least 1, got {hydra.max_batch_size}")

    def run(self) -> List[List[Row]]:
        command = self.options.train_command(self.cwd, run_mode=True, robomimic=self.robomimic)
        self.resume = self._resume_rule(command)
        hangup = install({signal.SIGHUP: signal.SIG_IGN})  # inherited: workers and trainings ignore it too
        try:
            with NewFolders() as folders, Interrupts(hangup=False) as interrupts, \
                    Locks(holder_note(self.sweep_dir)) as locks:
                self.folders = folders
                runs = self._write(command, locks, interrupts)
                launch, progress = self._start(runs, command)
                if self.options.detach:
                    self._say_how_to_follow(runs)
                    return [runs.to_launch]
                self._follow(runs, launch, progress, interrupts)
        finally:
            restore(hangup)
        if self.options.report:
            from launcher.report import after_run  # lazily: matplotlib and the readers load only now

            after_run(str(self.sweep_dir))  # never raises: a report problem is one line on stderr
        unfinished = [r for r in runs.rows if r.status in (Status.FAILED, Status.INTERRUPTED)]
        if unfinished:
            failed = sum(r.status == Status.FAILED for r in unfinished)
            what = f"{failed} of {len(runs.rows)} runs failed" if failed == len(unfinished) else \
                f"{len(unfinished)} of {len(runs.rows)} runs did not finish ({failed} failed)"
            raise SweepError(f"{what} (first: {unfinished[0].name}: {unfinished[0].reason}); "
                             f"manifest: {self.manifest}")
        return [runs.to_launch]

    # -- before launching -------------------------------------------------------

    def _write(self, command: TrainCommand, locks: Locks, interrupts: Interrupts) -> "_Runs":
        """Lock and check the targets, find what earlier launches still run, stage every run, claim
        the output folders of those to train, put the files in place: all before anything is launched."""
        for folder in (self.sweep_dir, self.logs):
            check_writable(folder, "hydra.sweep.dir", self.folders)
        locks.lock(self.sweep_dir / STATE_DIR, "the run-mode state of hydra.sweep.dir")
        runs = _Runs(self.plan, self.options, command, self.cwd, self.sweep_dir)
        write_runs(self.plan, self.options, command, locks, self.folders, interrupts, visit=runs.visit,
                   before_commit=lambda: runs.claim(locks, self.folders))
        return runs

    def _start(self, runs: "_Runs", command: TrainCommand) -> Tuple[Optional[LaunchDir], Progress]:
        """Remove what no task can use any more, write this launch's folder (everything its tasks
        read), the first manifest, then hand the runs over."""
        for old in runs.dead_launches():
            remove_launch(old)
        atomic_write(self.sweep_dir / ROBOMIMIC_RECORD, json.dumps(self.robomimic.record(), indent=2) + "\n")
        self.hydra.save_config(self.sweep_dir)
        self.hydra.slim_jobs()
        self.hydra.fit_launcher(self.options.timeout_min, runs.data_workers)
        slots = self.hydra.parallelism(len(runs.to_launch) or 1)
        encode = manifest_encoder(self.plan, self.options.config_dir, self.logs)
        progress = Progress(runs.rows, save=lambda: write_manifest(self.manifest, runs.rows, encode), slots=slots)
        launch = None
        if runs.to_launch:
            launch = LaunchDir.create(self.sweep_dir)
            launch.save_settings(self._settings(launch, command, slots))
            runs.save_run_list(launch)
            for position, row in enumerate(runs.to_launch):
                row.launch, row.position = launch, position
        progress.watch(runs.attached)
        progress.watch(runs.to_launch)
        progress.save(force=True)
        self._announce(runs)
        if launch is not None:
            if self.hydra.queue:
                try:
                    self._submit(launch, runs.to_launch)
                finally:  # submitted (the task ids), or refused (its reason): the manifest says which
                    progress.poll(force_check=True)
                    progress.changed = True
                    progress.save(force=True)
            else:
                self._workers = slots
        return launch, progress

    def _resume_rule(self, command: TrainCommand) -> Optional[str]:
        """How the train script picks the folder it resumes in (None: runs start afresh)."""
        # robomimic's own train.py and the stub speak the selected robomimic: its profile says.
        own = self.robomimic if self.options.train_script in (ROBOMIMIC, STUB) else None
        resume = resume_rule(command.script, own) if self.options.resume is not False else None
        if self.options.resume is True and resume is None:
            which = f"{self.robomimic.title}'s train.py" if own else command.script
            raise SweepError(f"launch.resume=true: {which} takes no --resume (robomimic's train.py takes it from "
                             "0.5 on); use launch.resume=auto or false. Nothing was written.")
        return resume

    def _settings(self, launch: LaunchDir, command: TrainCommand, slots: int) -> LaunchSettings:
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
            kind=SLURM if self.hydra.queue else LOCAL,
            resume=self.resume,
            max_requeues=self.options.max_requeues,
            parallelism=slots,
            created=time.time(),
            job_name=f"rmsweep-{uuid.uuid4().hex[:8]}" if self.hydra.queue else None,
        )

    def _submit(self, launch: LaunchDir, rows: List[Row]) -> None:
        """One array (or as many as MaxArraySize forces) for the whole launch; its ids recorded at once."""
        settings = launch.load_settings()
        assert settings is not None and settings.job_name is not None
        try:
            arrays = self.hydra.launcher.submit_array(str(self.sweep_dir), launch.launch_id, len(rows),
                                                      settings.job_name)
        except Exception as e:  # sbatch refused (a bad partition, memory, GPUs): nothing was queued
            launch.note_cancel(f"SLURM did not take it: {_one_line(e)}", status=Status.FAILED)
            raise SweepError(f"SLURM did not take the runs: {_one_line(e)}; nothing was queued "
                             f"(configs in {self.options.config_dir})") from None
        launch.save_slurm(settings.job_name, arrays)
        for row in rows:
            row.task = slurm.task_id(arrays, row.position)
        ids = ", ".join(a["id"] for a in arrays)
        print(f"Submitted {len(rows)} {'run' if len(rows) == 1 else 'runs'} to SLURM as job array {ids} "
              f"(job name {settings.job_name})")

    def _announce(self, runs: "_Runs") -> None:
        skipped = sum(r.status == Status.SKIPPED for r in runs.rows)
        if runs.gone:
            print(f"Training {runs.gone} run(s) again that finished before: their output folders are gone")
        if skipped:
            print(f"Skipping {skipped} of {len(runs.rows)} runs that already finished "
                  "(launch.rerun=true runs them again)")
        if runs.attached:
            print(f"Attaching to {len(runs.attached)} run(s) still queued or running from an earlier launch "
                  f"in {self.sweep_dir}")
        if runs.to_launch:
            noun = "run" if len(runs.to_launch) == 1 else "runs"
            print(f"Launching {len(runs.to_launch)} {noun} ({checked_against(self.robomimic)}); "
                  f"configs in {self.options.config_dir}, logs in {self.logs}")

    def _say_how_to_follow(self, runs: "_Runs") -> None:
        where = str(self.sweep_dir)
        print(f"Detached: {len(runs.to_launch) + len(runs.attached)} run(s) queued or running in SLURM; they record "
              f"their outcome in {where}.\n"
              f"  follow:  python -m launcher.status {where} --watch\n"
              f"  cancel:  python -m launcher.status {where} --cancel\n"
              f"  report:  python -m launcher.report {where}")

    # -- following --------------------------------------------------------------

    def _follow(self, runs: "_Runs", launch: Optional[LaunchDir], progress: Progress,
                interrupts: Interrupts) -> None:
        cancelled: List[str] = []  # the SLURM arrays a Ctrl-C or SIGTERM cancelled
        interrupts.callbacks.append(lambda signum: cancelled.extend(cancel_runs(progress.in_flight(),
                                                                                _stopped_why(signum))))
        try:
            with ProgressMonitor(progress, log_file=self.sweep_dir / SWEEPER_LOG):
                if launch is not None and not self.hydra.queue:
                    self._run_workers(launch, progress)
                while not progress.done():
                    time.sleep(0.2)
                    self._give_up_on_the_impossible(progress)
        except SweepInterrupted as stop:
            interrupts.armed = False
            self._wind_down(progress, stop.signum, wait_for_slurm=bool(cancelled))
            self._finish(progress)
            not_started = sum(r.status == Status.INTERRUPTED and r.reason.startswith("not started")
                              for r in runs.rows)
            stopped = progress.counts[Status.INTERRUPTED] - not_started
            print(f"Interrupted by {signal.Signals(stop.signum).name}: {stopped} run(s) stopped and recorded as "
                  f"interrupted, {not_started} not started. Run the same command again to resume; "
                  f"manifest: {self.manifest}", file=sys.stderr)
            raise SystemExit(stop.exit_code) from None
        self._finish(progress)

    def _run_workers(self, launch: LaunchDir, progress: Progress) -> None:
        """Hand Hydra's launcher one job per worker; each trains runs until none is left.

        The launcher works in a thread of its own: a Ctrl-C raised inside it would make
        joblib terminate its workers before their jobs record what they stopped."""
        overrides = [[f"launch.worker={n}", f"hydra.sweep.subdir={hydra_quote(launch.job_subdir(n))}"]
                     for n in range(self._workers)]
        outcome: Dict[str, Any] = {}

        def work() -> None:
            try:
                results = self.hydra.launcher.launch(overrides, initial_job_idx=0)
                outcome["error"] = next((e for e in (_job_error(r) for r in results) if e is not None), None)
            except BaseException as e:  # the launcher gave up; judge each run below
                outcome["error"] = e

        thread = threading.Thread(target=work, name="sweep-launcher", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
        error = outcome.get("error")
        for row in progress.in_flight():
            self._await(row, progress, error)
        if error is not None:  # what the judge saw of a job that died, and the launcher's word on it
            for row in progress.rows:
                if row.launch is launch and row.reason == JOB_DIED:
                    progress.set(row, row.status, f"{JOB_DIED} (the launcher said: {_one_line(error)})")

    def _await(self, row: Row, progress: Progress, error: Optional[BaseException]) -> None:
        """A run still open after every worker ended: wait for its record, or for its job to be
        gone (its process, on this machine; its record going stale, elsewhere)."""
        record_file = row.launch.run_file(row.name)
        while row.status not in FINAL:
            progress.poll()
            if row.status in FINAL:
                return
            if row.status == Status.PENDING:
                if error is None and row.launch.stopped():
                    progress.set(row, *not_started((Status.INTERRUPTED, "a stop was asked")))
                else:
                    progress.set(row, Status.FAILED, f"not run: the launcher failed: {_one_line(error)}")
                return
            job_pid = on_this_host(row, "job_pid")
            if job_pid is not None and not alive(job_pid):
                gone = JOB_DIED
            else:
                try:
                    silent = time.time() - record_file.stat().st_mtime
                except OSError:
                    silent = STALE_S
                gone = f"its job stopped reporting for {STALE_S:.0f} s" if silent >= STALE_S else ""
            if gone:
                progress.set(row, Status.FAILED, f"{gone} (the launcher said: {_one_line(error)})")
                return
            time.sleep(0.2)

    def _give_up_on_the_impossible(self, progress: Progress) -> None:
        """A task SLURM can never start (PartitionConfig, ...) would keep a watching sweeper
        waiting for ever: cancel it, and its run fails with SLURM's reason."""
        for row in progress.in_flight():
            if row.status == Status.PENDING and row.reason.startswith(QUEUED_FOREVER) and row.task:
                reason = row.reason.split("(", 1)[1].split(";")[0]
                row.launch.note_cancel(f"SLURM cannot start it: pending with reason {reason} (the request exceeds "
                                       "what the partition, account or QOS allows: check hydra.launcher."
                                       "cpus_per_task/mem_gb/gpus_per_node/timeout_min/partition)",
                                       [row.position], status=Status.FAILED)
                slurm.cancel([row.task])
                progress.set(row, Status.PENDING, f"cancelling: {row.reason}")

    # -- winding down -----------------------------------------------------------

    def _wind_down(self, progress: Progress, signum: int, wait_for_slurm: bool) -> None:
        """After Ctrl-C or SIGTERM stopped every run (:func:`cancel_runs`): give the jobs a moment to
        record themselves (longer when SLURM arrays were cancelled), then record the rest as interrupted."""
        why = _stopped_why(signum)
        deadline = time.monotonic() + (CANCEL_WAIT_S if wait_for_slurm else WIND_DOWN_S)
        while time.monotonic() < deadline and any(_may_still_record(row) for row in progress.in_flight()):
            time.sleep(0.3)
            progress.poll(force_check=wait_for_slurm)
        stop_trainings(progress.in_flight(), signal.SIGKILL)
        for row in progress.in_flight():
            if row.status == Status.RUNNING:
                progress.set(row, Status.INTERRUPTED, "interrupted: the sweep was stopped")
            else:
                progress.set(row, *not_started((Status.INTERRUPTED, why)))

    def _finish(self, progress: Progress) -> None:
        progress.save(force=True)
        print_summary(progress.rows, progress, self.manifest, self.logs)


class _Runs:
    """What run mode learns from each run as the single pass goes by: its row, whether it
    finished before or still runs from an earlier launch, its dataset and output folder,
    the CPUs its data workers want."""

    def __init__(self, plan: SweepPlan, options: LaunchOptions, command: TrainCommand, cwd: Path,
                 sweep_dir: Path) -> None:
        self.plan, self.options, self.command, self.cwd = plan, options, command, cwd
        self.sweep_dir = sweep_dir
        self.rows: List[Row] = []
        self.to_launch: List[Row] = []
        self.attached: List[Row] = []
        self.claims: Dict[Path, Set[str]] = defaultdict(set)
        self.data_workers = 0
        self._datasets: Set[Any] = set()
        self._roots: Dict[Any, Path] = {}
        self._finished: Dict[Path, Set[str]] = {}  # per output root: runs with a .sweep_done folder
        self.gone = 0  # runs that finished before, whose output folders are gone
        # What earlier launches in this sweep dir left: every run's latest row, judged.
        self.earlier = sweep_rows(sweep_dir)
        self.earlier_settings = judge_all(self.earlier.values()).settings  # each earlier launch's, read once
        # The new launch's runs.jsonl, written as the pass goes by (a line a run, none kept in memory).
        self.run_list: IO[str] = tempfile.TemporaryFile("w+")
        self._earlier_hashes: Dict[Path, Dict[str, str]] = {}

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
        earlier = self.earlier.get(run.name)
        if earlier is not None and earlier.status in LIVE:
            self._attach(row, earlier, run)
            return
        root = self._output_root(run)
        marker = self._marker(root, run)
        if marker is not None:
            row.status, row.reason = Status.SKIPPED, "finished before"
            row.output_dir, row.duration_s = marker.get("output_dir"), marker.get("duration_s")
            row.exit_code, row.config, row.log = marker.get("exit_code"), marker.get("config"), marker.get("log")
        else:
            self.to_launch.append(row)
            self.claims[root].add(run.name)
            self.run_list.write(self._entry(run, earlier).line())

    def _attach(self, row: Row, earlier: Row, run: RunFiles) -> None:
        """Follow a run an earlier launch still has queued or running, if it trains this very config."""
        settings = self.earlier_settings.get(earlier.launch.root)
        config = Path(settings.config_dir) / f"{run.name}.json" if settings else None
        same = settings is not None and settings.command_words == list(self.command.words) \
            and _read(config) == run.text
        if not same:
            where = f"SLURM task {earlier.task}" if earlier.task else "a job of this machine"
            raise SweepError(
                f"run {run.name} is still {earlier.status} ({where}) from an earlier launch in "
                f"{earlier.launch.root.parent.parent}, with another config or command: let it finish, or cancel "
                f"it with python -m launcher.status {earlier.launch.root.parent.parent} --cancel. Nothing was written.")
        for key in ("status", "reason", "launch", "position", "task", "attempts", "job", "gpu"):
            setattr(row, key, getattr(earlier, key))
        self.attached.append(row)

    def _entry(self, run: RunFiles, earlier: Optional[Row]) -> RunEntry:
        """This run's line in the new launch: its earlier attempts, if they trained this very config."""
        entry = RunEntry(run.name, hash=run_hash(run.text, self.command.words))
        same = earlier is not None and self._earlier_hash(earlier.launch, run.name) == entry.hash
        record = read_json(earlier.launch.run_file(run.name)) if same else None
        if record:
            entry.attempts = int(record.get("attempt") or 0)
            entry.first_started = record.get("first_started")
            entry.requeues = int(record.get("requeues") or 0)
        return entry

    def _earlier_hash(self, launch: LaunchDir, name: str) -> Optional[str]:
        """What run ``name`` trained in an earlier launch (its runs.jsonl read once)."""
        if launch.root not in self._earlier_hashes:
            self._earlier_hashes[launch.root] = {e.name: e.hash for e in launch.entries()}
        return self._earlier_hashes[launch.root].get(name)

    def save_run_list(self, launch: LaunchDir) -> None:
        """Put the run list written during the pass in the launch's folder (whole, then renamed)."""
        self.run_list.seek(0)
        with atomic_file(launch.runs_list) as f:
            shutil.copyfileobj(self.run_list, f)
        self.run_list.close()

    def dead_launches(self) -> List[LaunchDir]:
        """Earlier launches none of whose tasks can still run, or be attached to."""
        keep = {row.launch.root for row in self.earlier.values() if row.status in LIVE}
        return [launch for launch in launch_dirs(self.sweep_dir) if launch.root not in keep]

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


def _stopped_why(signum: int) -> str:
    return f"cancelled: the sweeper was stopped ({signal.Signals(signum).name})"


def _read(path: Optional[Path]) -> Optional[str]:
    try:
        return path.read_text() if path is not None else None
    except OSError:
        return None


def _may_still_record(row: Row) -> bool:
    """An open row whose job may still write its outcome: queued or elsewhere, or alive here."""
    if row.status == Status.PENDING:
        return row.task is not None
    job_pid = on_this_host(row, "job_pid")
    return job_pid is None or (alive(job_pid) and job_pid != os.getpid())


def _job_error(result: Any) -> Optional[BaseException]:
    """What a worker job ended with, if it failed (Hydra's run_job caught it)."""
    if getattr(getattr(result, "status", None), "name", "") == "FAILED":
        error = getattr(result, "_return_value", None)  # unlogged, unlike .return_value
        return error if isinstance(error, BaseException) else RuntimeError(str(error))
    return None


def _one_line(error: Optional[BaseException]) -> str:
    if error is None:
        return "unknown error"
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


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
