"""A run-mode sweep's files: the plan jobs read, their events, the manifest, resume markers.

Layout inside ``hydra.sweep.dir``::

    manifest.jsonl          one row per run (pandas.read_json(path, lines=True))
    logs/<run name>.log     each run's training output
    .sweep/plan.json        what every job needs to build its run's config
    .sweep/events.jsonl     jobs append a line when a run starts and when it ends

Jobs may run in other processes (joblib) or on other machines (submitit), so
they talk to the sweeper only through these files. A finished run is recorded
next to its training output, ``<train.output_dir>/<run name>/.sweep_done/<hash>.json``,
so re-running the same sweep (in a new sweep dir) skips it.
"""
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from launcher.emit import atomic_write
from launcher.plan import SweepPlan
from launcher.sweep import Param

PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED = "pending", "running", "succeeded", "failed", "skipped"


@dataclass(frozen=True)
class JobSettings:
    """What a run-mode job needs besides the plan."""

    config_dir: str
    train_script: str  # absolute
    cwd: str  # the sweep's working directory; training runs there


class SweepFiles:
    def __init__(self, sweep_dir: Path) -> None:
        self.sweep_dir = sweep_dir
        self.state_dir = sweep_dir / ".sweep"
        self.plan = self.state_dir / "plan.json"
        self.events = self.state_dir / "events.jsonl"
        self.manifest = sweep_dir / "manifest.jsonl"
        self.logs = sweep_dir / "logs"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"


def _jsonable_group(group: Any) -> Any:
    # Jobs never expand the sweep, so a group only needs to stay distinct.
    return group if isinstance(group, (int, str)) else repr(group)


def save_plan(files: SweepFiles, plan: SweepPlan, settings: JobSettings) -> None:
    files.state_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "base": plan.base,
        "base_name": plan.base_name,
        "base_config_file": plan.base_config_file,
        "wandb_proj_name": plan.wandb_proj_name,
        "params": [
            {"key": p.key, "name": p.name, "group": _jsonable_group(p.group),
             "values": list(p.values), "value_names": p.value_names}
            for p in plan.params
        ],
        "settings": asdict(settings),
    }
    atomic_write(files.plan, json.dumps(document))


def load_plan(files: SweepFiles) -> Tuple[SweepPlan, JobSettings]:
    with open(files.plan) as f:
        document = json.load(f)
    plan = SweepPlan(
        base=document["base"],
        base_name=document["base_name"],
        params=[Param(**p) for p in document["params"]],
        base_config_file=document["base_config_file"],
        wandb_proj_name=document["wandb_proj_name"],
    )
    return plan, JobSettings(**document["settings"])


def append_event(files: SweepFiles, event: Dict[str, Any]) -> None:
    """One line, one ``write`` with O_APPEND: lines from parallel jobs do not interleave."""
    line = (json.dumps(event) + "\n").encode()
    fd = os.open(files.events, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_events(files: SweepFiles, offset: int) -> Tuple[List[Dict[str, Any]], int]:
    """Complete event lines from byte ``offset`` on, and the offset to read from next."""
    try:
        with open(files.events, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
    events = [json.loads(line) for line in data[:end].splitlines() if line.strip()]
    return events, offset + end


def write_manifest(files: SweepFiles, rows: Iterator[Dict[str, Any]]) -> None:
    atomic_write(files.manifest, "".join(json.dumps(row) + "\n" for row in rows))


def config_hash(config_text: str) -> str:
    return hashlib.sha256(config_text.encode()).hexdigest()[:16]


def done_marker(output_root: Path, name: str, config_text: str) -> Path:
    """Where a finished run of this exact config is recorded."""
    return output_root / name / ".sweep_done" / f"{config_hash(config_text)}.json"


def mark_done(marker: Path, record: Dict[str, Any]) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(marker, json.dumps(record, indent=2))


def read_marker(marker: Path) -> Optional[Dict[str, Any]]:
    try:
        with open(marker) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
