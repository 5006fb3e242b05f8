"""A run-mode sweep's state on disk: the sweep dir is the truth, and every file has one writer.

Layout inside ``hydra.sweep.dir`` (docs/run-mode.md, "The sweep dir is the truth")::

    manifest.jsonl                   one row per run: a view, rewritten from the files below
    logs/<run name>.log              each run's training output
    sweeper.log                      the sweeper's own output once its terminal is gone
    .sweep/<launch id>/              one submission: the runs handed to a launcher at once
        launch.json                  its settings: the command, folders, limits, launcher kind
        runs.jsonl                   its runs in task order: name, earlier attempts
        slurm.json                   the job name and SLURM array id(s), written right after sbatch
        runs/<run name>.json         each run's own record, written only by its job
        claims/<task index>          a local worker's claim on a run (created with O_EXCL)
        workers/<n>.json             a local worker's process
        stop                         present once a stop or cancel was asked
        cancels.jsonl                why tasks were cancelled (the sweeper, launcher.status --cancel)
        jobs/<n>/                    Hydra's folder for local worker n

Jobs may run in other processes (joblib), or on other machines (SLURM), so they
talk only through these files, each written whole (temporary file, then rename).
Everything a task needs is written before anything is launched; a launch folder is
removed only once none of its tasks can still run (``_Runs.dead_launches`` in
:mod:`launcher.run_mode.launch`). A
finished run is recorded beside its training output,
``<train.output_dir>/<run name>/.sweep_done/<hash>.json`` (the hash of its config
and training command), so the same run is skipped by any later sweep, in any sweep
dir, as long as its output folder is there.
"""
import datetime
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from launcher.core.params import Choice
from launcher.core.plan import SweepPlan
from launcher.core.status import Status
from launcher.output.staging import atomic_file, atomic_write

STATE_DIR = ".sweep"
LOCAL, SLURM = "local", "slurm"  # where a launch's jobs run


@dataclass(frozen=True)
class LaunchSettings:
    """What every job of one launch needs; written once by the sweeper (launch.json)."""

    launch_id: str
    sweep_dir: str
    config_dir: str
    logs_dir: str
    cwd: str  # the sweep's working directory; training runs there
    argv_prefix: List[str]  # [python, train script]
    extra_args: List[str]
    command_words: List[str]  # TrainCommand.words: what a finished run's marker is made for
    timeout_min: Optional[float]
    gpus: Optional[List[str]]  # each as a run's CUDA_VISIBLE_DEVICES names it
    runs_per_gpu: int
    gpu_slots: Optional[str]  # the slots folder the sweeper checked
    sweeper_pid: int
    sweeper_host: str
    # Set for every training: which robomimic the sweep was checked against (versions.ENV_VAR);
    # harmless for robomimic's train.py, what the stub behaves as.
    env: Dict[str, str] = field(default_factory=dict)
    robomimic: Dict[str, Any] = field(default_factory=dict)  # versions.Robomimic.record()
    kind: str = LOCAL  # LOCAL or SLURM
    # How the train script picks the folder --resume continues in (launcher.robomimic.resume);
    # None: runs start afresh.
    resume: Optional[str] = None
    max_requeues: int = 0  # SLURM: requeues when its time limit (USR2) stops a run
    parallelism: int = 1  # runs at once: workers, or the array's throttle
    created: float = 0.0
    job_name: Optional[str] = None  # SLURM: the array's --job-name, unique to this launch

    @staticmethod
    def from_record(record: Dict[str, Any]) -> "LaunchSettings":
        known = {f.name for f in fields(LaunchSettings)}
        return LaunchSettings(**{k: v for k, v in record.items() if k in known})


@dataclass
class RunEntry:
    """One line of runs.jsonl: a task of the launch, and what earlier launches left of its run."""

    name: str
    hash: str = ""  # what it trains: its config and command (run_hash)
    attempts: int = 0  # attempts in earlier launches
    first_started: Optional[float] = None  # when its first attempt started, in any launch
    requeues: int = 0  # time-limit requeues used in earlier launches

    def line(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v or k == "name"}) + "\n"


class LaunchDir:
    """``<sweep dir>/.sweep/<launch id>/``: one submission."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings_file = root / "launch.json"
        self.runs_list = root / "runs.jsonl"
        self.slurm_file = root / "slurm.json"
        self.runs = root / "runs"
        self.claims = root / "claims"
        self.workers = root / "workers"
        self.stop_file = root / "stop"
        self.cancels_file = root / "cancels.jsonl"
        self.jobs = root / "jobs"

    @staticmethod
    def create(sweep_dir: Path) -> "LaunchDir":
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        launch = LaunchDir(sweep_dir / STATE_DIR / f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        launch.runs.mkdir(parents=True)
        launch.claims.mkdir()
        return launch

    @staticmethod
    def of_job(job_output_dir: Path) -> "LaunchDir":
        """A job's Hydra folder is ``<launch>/jobs/<n>`` (the sweeper sets hydra.sweep.subdir)."""
        return LaunchDir(job_output_dir.parent.parent)

    @property
    def launch_id(self) -> str:
        return self.root.name

    def job_subdir(self, index: int) -> str:
        """``hydra.sweep.subdir`` for job ``index``, relative to the sweep dir."""
        return f"{STATE_DIR}/{self.launch_id}/jobs/{index}"

    def save_settings(self, settings: LaunchSettings) -> None:
        atomic_write(self.settings_file, json.dumps(asdict(settings), indent=1))

    def load_settings(self) -> Optional[LaunchSettings]:
        record = read_json(self.settings_file)
        return None if record is None else LaunchSettings.from_record(record)

    def save_runs(self, entries: Iterable[RunEntry]) -> None:
        with atomic_file(self.runs_list) as f:
            f.writelines(entry.line() for entry in entries)

    def entries(self) -> Iterator[RunEntry]:
        """The launch's runs in task order."""
        try:
            with open(self.runs_list) as f:
                for line in f:
                    yield RunEntry(**json.loads(line))
        except (OSError, ValueError, TypeError):
            return

    def entry(self, index: int) -> Optional[RunEntry]:
        """Task ``index``'s run (a SLURM task reads only its own line)."""
        for i, entry in enumerate(self.entries()):
            if i == index:
                return entry
        return None

    def save_slurm(self, job_name: str, arrays: List[Dict[str, Any]]) -> None:
        atomic_write(self.slurm_file, json.dumps({"job_name": job_name, "arrays": arrays}))

    def slurm_arrays(self) -> List[Dict[str, Any]]:
        """``[{"id": "123", "first": 0, "count": 1001}, ...]``: task index = first + array index."""
        return list((read_json(self.slurm_file) or {}).get("arrays", []))

    def run_file(self, name: str) -> Path:
        return self.runs / f"{name}.json"

    def recorded_names(self) -> set:
        """The runs with a record: one listing, not a failed open per run."""
        try:
            return {e.name[:-5] for e in os.scandir(self.runs) if e.name.endswith(".json")}
        except OSError:
            return set()

    def claim(self, index: int) -> bool:
        """Take task ``index`` for this worker, if no other worker took it (atomic: O_EXCL)."""
        try:
            os.close(os.open(self.claims / str(index), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return True
        except FileExistsError:
            return False

    def stopped(self) -> bool:
        """Stop was asked, or the launch is over (its folder is gone)."""
        return self.stop_file.exists() or not self.settings_file.exists()

    def request_stop(self) -> None:
        try:
            self.stop_file.touch()
        except OSError:
            pass  # the sweeper also stops local trainings itself

    def note_cancel(self, reason: str, tasks: Optional[List[int]] = None, status: str = Status.INTERRUPTED) -> None:
        """Why tasks (None: all that had not finished) were cancelled, and what that makes their
        runs (interrupted; failed for a request SLURM can never meet); one appended line each time."""
        line = json.dumps({"time": time.time(), "reason": reason, "tasks": tasks, "status": str(status)}) + "\n"
        with open(self.cancels_file, "a") as f:
            f.write(line)

    def cancel_reasons(self) -> Dict[Optional[int], Tuple[str, str]]:
        """Task index (None: every task) -> (status, reason) of the latest cancel that named it."""
        reasons: Dict[Optional[int], Tuple[str, str]] = {}
        try:
            with open(self.cancels_file) as f:
                for line in f:
                    note = json.loads(line)
                    for task in note.get("tasks") or [None]:
                        reasons[task] = (note.get("status") or Status.INTERRUPTED, note["reason"])
        except (OSError, ValueError, KeyError):
            pass
        return reasons

    def save_worker(self, n: int) -> None:
        self.workers.mkdir(exist_ok=True)
        atomic_write(self.workers / f"{n}.json", json.dumps({"pid": os.getpid(), "host": this_host()}))

    def worker_pids(self) -> List[Dict[str, Any]]:
        try:
            return [r for r in (read_json(p) for p in self.workers.glob("*.json")) if r]
        except OSError:
            return []


def launch_dirs(sweep_dir: Path) -> List[LaunchDir]:
    """The sweep dir's launches, oldest first (a launch id starts with its time)."""
    try:
        names = sorted(e.name for e in os.scandir(sweep_dir / STATE_DIR) if e.is_dir())
    except OSError:
        return []
    return [LaunchDir(sweep_dir / STATE_DIR / name) for name in names]


def remove_launch(launch: LaunchDir) -> None:
    """Remove a launch none of whose tasks can still run (the caller holds the sweep dir's lock)."""
    shutil.rmtree(launch.root, ignore_errors=True)


def read_json(path: Path) -> Optional[Dict[str, Any]]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_run_record(path: Path, record: Dict[str, Any]) -> None:
    atomic_write(path, json.dumps(record))


class Row:
    """One run in the sweeper's memory: small (slots, no dict), so a 200,000-run sweep stays cheap."""

    __slots__ = ("index", "name", "choice", "status", "exit_code", "duration_s", "output_dir",
                 "reason", "gpu", "config", "log", "job", "attempts", "task", "launch", "position")

    def __init__(self, index: int, name: str, choice: Choice) -> None:
        self.index = index
        self.name = name
        self.choice = choice
        self.status = Status.PENDING
        self.exit_code: Optional[int] = None
        self.duration_s: Optional[float] = None
        self.output_dir: Optional[str] = None
        self.reason = ""
        self.gpu: Any = None  # the device index, or its UUID
        # A skipped run points at the finished run's own files, which may differ from this sweep's.
        self.config: Optional[str] = None
        self.log: Optional[str] = None
        self.job: Optional[Dict[str, Any]] = None  # where a running job is: host, pid, pgid, heartbeat
        self.attempts = 0  # trainings started for this run, in this sweep dir
        self.task: Optional[str] = None  # its SLURM task, A_i
        self.launch: Any = None  # the LaunchDir (shared) whose task it is
        self.position = -1  # its task index in that launch

    def apply(self, record: Dict[str, Any]) -> None:
        """Take in a job's record (running, or its outcome); the status is judged elsewhere
        (:mod:`launcher.run_mode.follow`), from the record and SLURM's word."""
        for key in ("exit_code", "duration_s", "output_dir", "gpu", "task"):
            if key in record:
                setattr(self, key, record[key])
        self.attempts = int(record.get("attempt") or self.attempts)
        if record.get("status") == Status.RUNNING:
            self.job = {k: record.get(k) for k in ("host", "pid", "pgid", "job_pid", "started")}


def manifest_encoder(plan: SweepPlan, config_dir: Path, logs_dir: Path) -> Callable[[Row], str]:
    """A function from a row to its manifest line (JSON, one line).

    Each param's ``"key": value`` is encoded once, as the renderer does for configs:
    rewriting a 200,000-row manifest is then a matter of seconds, not a minute.
    """
    fragments = [[f"{json.dumps(p.key)}: {json.dumps(v)}" for v in p.values] for p in plan.params]
    config_prefix, log_prefix = os.path.join(str(config_dir), ""), os.path.join(str(logs_dir), "")
    dumps = json.dumps

    def line(row: Row) -> str:
        params = ", ".join(f[i] for f, i in zip(fragments, row.choice))
        config = row.config or f"{config_prefix}{row.name}.json"
        log = row.log or f"{log_prefix}{row.name}.log"
        return (
            f'{{"index": {row.index}, "name": {dumps(row.name)}, "status": "{row.status}", "params": {{{params}}}, '
            f'"config": {dumps(config)}, "log": {dumps(log)}, "exit_code": {dumps(row.exit_code)}, '
            f'"duration_s": {dumps(row.duration_s)}, "output_dir": {dumps(row.output_dir)}, '
            f'"gpu": {dumps(row.gpu)}, "attempts": {row.attempts}, "slurm_task": {dumps(row.task)}, '
            f'"reason": {dumps(row.reason)}}}\n'
        )

    return line


def write_manifest(path: Path, rows: Iterable[Row], encode: Callable[[Row], str]) -> None:
    """The whole manifest, streamed to a temporary file and renamed into place."""
    with atomic_file(path) as f:
        f.writelines(map(encode, rows))


def run_hash(config_text: str, command: Sequence[str]) -> str:
    """What a run trains: its config and the command around it (``[python, train script,
    *extra args]``): a smoke sweep with ``--debug``, another script or another interpreter
    trains something else, and must not pass for the real run."""
    identity = json.dumps([config_text, list(command)])
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def done_marker(output_root: Path, name: str, config_text: str, command: Sequence[str]) -> Path:
    """Where a finished run of this exact config, trained by this exact command, is recorded."""
    return output_root / name / ".sweep_done" / f"{run_hash(config_text, command)}.json"


def runs_with_markers(output_root: Path) -> set:
    """The run names under ``output_root`` with any finished-run marker: one listing instead
    of a failed open per run, which matters for a fresh folder and 200,000 runs."""
    try:
        entries = list(os.scandir(output_root))
    except OSError:
        return set()
    return {e.name for e in entries if e.is_dir() and os.path.isdir(os.path.join(e.path, ".sweep_done"))}


def mark_done(marker: Path, record: Dict[str, Any]) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(marker, json.dumps(record, indent=2))


def this_host() -> str:
    return socket.gethostname()
