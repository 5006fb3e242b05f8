"""Which runs a sweep folder holds, what each swept, and where its training wrote.

Why: a report must work on both kinds of sweep folder, and on sweeps still running.

* Run mode leaves ``manifest.jsonl``: one row per run with its status, its swept params
  (robomimic keys), its config, the training's stdout (``logs/<run>.log``) and, once it
  ended, its output folder. A run still training has no output folder in the manifest
  yet: it is the newest ``<train.output_dir>/<run>/<timestamp>`` made since the run
  started, found the way the job itself resolves ``train.output_dir``.
* Script mode leaves ``configs/<run>.json`` and ``run.sh`` and nothing else. The swept
  keys are the config leaves whose values differ between runs (``experiment.name`` and
  ``meta.*`` aside); each run's output is its newest output folder that finished
  (``finished run successfully!``), else its newest folder.

Swept keys that hold one value in every run are kept apart (``Sweep.constants``): they
say nothing about which run won, and would only widen every table.
"""
import glob
import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from launcher.core.status import Status
from launcher.report import ReportError
from launcher.robomimic.logs import SUCCESS_LINE, failed_last, robomimic_error
from launcher.robomimic.paths import (
    folder_time,
    installed_train_script,
    output_dir_setting,
    resolve_output_root,
    timestamp_folders,
)

MANIFEST = "manifest.jsonl"
CONFIGS = "configs"
SCRIPT = "run.sh"
SEED_KEY = "train.seed"
_IGNORED_LEAVES = ("experiment.name",)


@dataclass(frozen=True)
class RunSource:
    """One run of a sweep: where its numbers are, and what the sweep knows of it."""

    index: int
    name: str
    status: str
    params: Dict[str, Any]  # every swept key -> this run's value
    output_dir: Optional[str]  # robomimic's <output_dir>/<name>/<timestamp>, if there is one
    stdout_log: Optional[str]  # the sweep's logs/<run>.log (run mode)
    reason: str = ""


@dataclass(frozen=True)
class Sweep:
    folder: Path
    mode: str  # "run" or "script"
    runs: Tuple[RunSource, ...]
    keys: Tuple[str, ...]  # swept keys whose values differ between runs, in sweep order
    constants: Dict[str, Any] = field(default_factory=dict)  # swept keys with one value in every run


def load_sweep(folder: str) -> Sweep:
    """The runs of the sweep folder ``folder``; ReportError if there is none."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ReportError(f"no such folder: {folder}")
    if (path / MANIFEST).is_file():
        return _run_mode_sweep(path.resolve())
    if glob.glob(os.path.join(glob.escape(str(path / CONFIGS)), "*.json")):
        return _script_mode_sweep(path.resolve())
    raise ReportError(f"{folder} is not a sweep folder: it holds neither {MANIFEST} (run mode) "
                      f"nor {CONFIGS}/*.json (script mode)")


def split_keys(runs: Sequence[RunSource], order: Iterable[str]) -> Tuple[Tuple[str, ...], Dict[str, Any]]:
    """(keys whose values differ between runs, {key: value} of those that do not)."""
    keys, constants = [], {}
    for key in order:
        values = {json.dumps(r.params.get(key), sort_keys=True) for r in runs}
        if len(values) > 1:
            keys.append(key)
        elif runs:
            constants[key] = runs[0].params.get(key)
    return tuple(keys), constants


# --- run mode ---------------------------------------------------------------------------

def _manifest_rows(path: Path) -> List[Dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # written whole by run mode; a damaged line is skipped, not fatal
            if isinstance(row, dict) and isinstance(row.get("name"), str):
                rows.append(row)
    return rows


def _run_mode_sweep(folder: Path) -> Sweep:
    rows = _manifest_rows(folder / MANIFEST)
    if not rows:
        raise ReportError(f"{folder / MANIFEST} lists no runs")
    locator = _Locator(folder)
    runs = []
    for i, row in enumerate(rows):
        output_dir = row.get("output_dir")
        if output_dir is None and row.get("status") == Status.RUNNING:
            output_dir = locator.running_output(row)
        runs.append(RunSource(
            index=row.get("index", i), name=row["name"], status=str(row.get("status") or Status.UNKNOWN),
            params=dict(row.get("params") or {}), output_dir=output_dir, stdout_log=row.get("log"),
            reason=str(row.get("reason") or ""),
        ))
    order = list(dict.fromkeys(key for row in rows for key in (row.get("params") or {})))
    keys, constants = split_keys(runs, order)
    return Sweep(folder, "run", tuple(runs), keys, constants)


class _Locator:
    """Where a running run of a run-mode sweep writes: its launch's settings (while the
    sweep runs, ``.sweep/<launch>/launch.json``), else the sweep's ``multirun.yaml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._launch: Optional[Path] = None
        self._settings: Optional[Tuple[Optional[str], Optional[str]]] = None

    def settings(self) -> Tuple[Optional[str], Optional[str]]:
        """(train script, working directory) of the sweep, as far as known."""
        if self._settings is None:
            self._settings = self._from_launch() or self._from_multirun_yaml() or (None, None)
        return self._settings

    def _from_launch(self) -> Optional[Tuple[Optional[str], Optional[str]]]:
        for path in sorted(self.folder.glob(".sweep/*/launch.json"), reverse=True):
            settings = _read_json(path)
            if settings and len(settings.get("argv_prefix") or []) >= 2:
                self._launch = path.parent
                return settings["argv_prefix"][1], settings.get("cwd")
        return None

    def _from_multirun_yaml(self) -> Optional[Tuple[Optional[str], Optional[str]]]:
        try:
            import yaml

            with open(self.folder / "multirun.yaml") as f:
                saved = yaml.safe_load(f) or {}
            cwd = saved["hydra"]["runtime"]["cwd"]
            script = (saved.get("launch") or {}).get("train_script")
            return (os.path.join(cwd, os.path.expanduser(script)) if script else None), cwd
        except Exception:  # missing, unreadable, not YAML, or not what run mode writes: unknown
            return None

    def started(self, name: str) -> Optional[float]:
        if self._launch is None:
            return None
        record = _read_json(self._launch / "runs" / f"{name}.json") or {}
        started = record.get("started")
        return float(started) if isinstance(started, (int, float)) else None

    def running_output(self, row: Dict[str, Any]) -> Optional[str]:
        """The newest run folder made since the run started (any newest one if its start
        is unknown): an older folder is an earlier training's, not this one's."""
        config = _read_json(Path(str(row.get("config")))) if row.get("config") else None
        if config is None:
            return None
        script, cwd = self.settings()
        folders = output_folders(output_roots(config, script, cwd), row["name"])
        started = self.started(row["name"])
        for folder in reversed(folders):
            if started is None or folder_time(folder) >= started - 2:
                return folder
        return None


# --- script mode ------------------------------------------------------------------------

def _script_mode_sweep(folder: Path) -> Sweep:
    paths, script = _config_order(folder)
    configs = []
    for path in paths:
        config = _read_json(path)
        if config is not None:
            configs.append(config)
    if not configs:
        raise ReportError(f"{folder / CONFIGS} holds no readable robomimic config")
    leaves = [flatten(c) for c in configs]
    keys = differing_leaves(leaves)
    runs = [_script_run(i, config, {k: leaf.get(k) for k in keys}, script)
            for i, (config, leaf) in enumerate(zip(configs, leaves))]
    # No constants: every leaf the runs share would be one, swept or not; configs cannot tell.
    return Sweep(folder, "script", tuple(runs), keys, {})


def differing_leaves(leaves: Sequence[Dict[str, Any]]) -> Tuple[str, ...]:
    """The config keys whose values differ between runs (a key some runs lack differs),
    ``experiment.name`` and ``meta.*`` aside, in config order."""
    order = dict.fromkeys(k for leaf in leaves for k in leaf if k not in _IGNORED_LEAVES and not k.startswith("meta."))
    missing = object()
    keys = []
    for key in order:
        first = leaves[0].get(key, missing)
        if any(type(leaf.get(key, missing)) is not type(first) or leaf.get(key, missing) != first for leaf in leaves):
            keys.append(key)
    return tuple(keys)


def _config_order(folder: Path) -> Tuple[List[Path], Optional[str]]:
    """The configs in the order run.sh trains them (the rest after, by name), and the
    train script run.sh calls."""
    configs = sorted(Path(p) for p in glob.glob(os.path.join(glob.escape(str(folder / CONFIGS)), "*.json")))
    listed: List[Path] = []
    script = None
    try:
        lines = (folder / SCRIPT).read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if "--config" in words and words.index("--config") + 1 < len(words):
            at = words.index("--config")
            listed.append(Path(words[at + 1]))
            script = script or (words[at - 1] if at >= 1 else None)
    known = {p.resolve(): p for p in configs}
    ordered = [known.pop(p.resolve()) for p in listed if p.resolve() in known]
    return ordered + sorted(known.values()), script


def _script_run(index: int, config: Dict[str, Any], params: Dict[str, Any], script: Optional[str]) -> RunSource:
    name = str((config.get("experiment") or {}).get("name"))
    folders = output_folders(output_roots(config, script, None), name)
    if not folders:
        return RunSource(index, name, Status.PENDING, params, None, None, "no output folder yet")
    for folder in reversed(folders):
        if _log_tail_says_finished(folder):
            return RunSource(index, name, Status.SUCCEEDED, params, folder, None, "")
    newest = folders[-1]
    status, reason = _unfinished_status(newest)
    return RunSource(index, name, status, params, newest, None, reason)


def _log_tail_says_finished(run_dir: str) -> bool:
    try:
        with open(os.path.join(run_dir, "logs", "log.txt"), "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
            return SUCCESS_LINE.encode() in f.read()
    except OSError:
        return False


def _unfinished_status(run_dir: str) -> Tuple[str, str]:
    log = os.path.join(run_dir, "logs", "log.txt")
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return Status.UNKNOWN, "no logs/log.txt (terminal_output_to_txt=false?): whether it finished is unknown"
    if failed_last(text):
        return Status.FAILED, robomimic_error(text) or "run failed"
    return Status.UNFINISHED, "its log has no 'finished run successfully!': still running, or stopped"


# --- output folders ---------------------------------------------------------------------

def output_roots(config: Dict[str, Any], script: Optional[str], cwd: Optional[str]) -> List[Path]:
    """Where ``config``'s training may have written ``<name>/<timestamp>``, most likely
    first: as resolved for ``script`` run in ``cwd`` (this process's when unknown), then,
    for a relative ``train.output_dir``, as robomimic's own train.py resolves it."""
    setting = output_dir_setting((config.get("train") or {}).get("output_dir"), config.get("algo_name"))
    here = Path(cwd) if cwd else Path.cwd()
    roots = [resolve_output_root(setting, script or "train.py", here)]
    robomimic_train = installed_train_script()
    if robomimic_train is not None:
        roots.append(resolve_output_root(setting, str(robomimic_train), here))
    return list(dict.fromkeys(roots))


def output_folders(roots: Sequence[Path], name: str) -> List[str]:
    """The timestamped run folders under the first root that has ``<name>/``, oldest first."""
    for root in roots:
        names = timestamp_folders(root / name)
        if names:
            return [str(root / name / n) for n in names]
    return []


# --- helpers ----------------------------------------------------------------------------

def flatten(config: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    """``{"a.b.c": leaf}`` for every non-dict value (and empty dict) of a nested config."""
    out: Dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _read_json(path: Path) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
