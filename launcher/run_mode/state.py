"""A run-mode sweep's state on disk: one folder per launch, the manifest, resume markers.

Layout inside ``hydra.sweep.dir``::

    manifest.jsonl                one row per run (pandas.read_json(path, lines=True))
    logs/<run name>.log           each run's training output
    .sweep/<launch id>/launch.json  what every job of this launch needs (the command, folders, limits)
    .sweep/<launch id>/runs/<run name>.json  each job's own record: running, then its outcome
    .sweep/<launch id>/stop       present once the sweeper was told to stop
    .sweep/<launch id>/jobs/<n>/  Hydra's folder for job n

Jobs may run in other processes (joblib), or on other machines (submitit), so they
talk to the sweeper only through these files, each written whole (temporary file,
then rename) by one writer. Every launch has its own folder, so nothing an earlier
launch wrote is ever taken for this one's; a job whose launch folder is gone belongs
to a sweep that ended, and trains nothing. A finished run is recorded beside its
training output, ``<train.output_dir>/<run name>/.sweep_done/<hash>.json`` (the hash of its
config and training command), so the same run is skipped by any later sweep, in any
sweep dir, as long as its output folder is there.
"""
import datetime
import hashlib
import json
import os
import shutil
import socket
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

from launcher.core.params import Choice
from launcher.core.plan import SweepPlan
from launcher.core.status import Status
from launcher.output.staging import atomic_file, atomic_write

STATE_DIR = ".sweep"


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


class LaunchDir:
    """``<sweep dir>/.sweep/<launch id>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings_file = root / "launch.json"
        self.runs = root / "runs"
        self.stop_file = root / "stop"
        self.jobs = root / "jobs"

    @staticmethod
    def create(sweep_dir: Path) -> "LaunchDir":
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        launch = LaunchDir(sweep_dir / STATE_DIR / f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        launch.runs.mkdir(parents=True)
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
        return None if record is None else LaunchSettings(**record)

    def run_file(self, name: str) -> Path:
        return self.runs / f"{name}.json"

    def stopped(self) -> bool:
        """Stop was asked, or the launch is over (its folder is gone)."""
        return self.stop_file.exists() or not self.settings_file.exists()

    def request_stop(self) -> None:
        try:
            self.stop_file.touch()
        except OSError:
            pass  # the sweeper also stops local trainings itself


def remove_old_launches(sweep_dir: Path) -> None:
    """Remove the folders of earlier launches (call it holding the sweep dir's lock)."""
    state = sweep_dir / STATE_DIR
    if state.is_dir():
        for entry in state.iterdir():
            shutil.rmtree(entry, ignore_errors=True)


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
                 "reason", "gpu", "config", "log", "job")

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

    def apply(self, record: Dict[str, Any]) -> None:
        """Take in a job's record (running, or its outcome)."""
        for key in ("status", "exit_code", "duration_s", "output_dir", "reason", "gpu"):
            if key in record:
                setattr(self, key, record[key])
        if record.get("status") == Status.RUNNING:
            self.job = {k: record.get(k) for k in ("host", "pid", "pgid", "job_pid")}


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
            f'"gpu": {dumps(row.gpu)}, "reason": {dumps(row.reason)}}}\n'
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
