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
import functools
import glob
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from launcher.core.status import FINISHED, Status
from launcher.report import ReportError
from launcher.robomimic.logs import LogVerdict, log_verdict
from launcher.robomimic.paths import (
    folder_time,
    installed_train_script,
    is_robomimics_own,
    output_dir_setting,
    resolve_output_root,
    timestamp_folders,
)
from launcher.robomimic.schema import DATA_KEY
from launcher.robomimic.train_command import ROBOMIMIC, ROBOMIMIC_LINE_SCRIPT
from launcher.robomimic.versions import BUNDLED, Profile, bundled

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
    readable: bool = True  # False: its manifest line or config could not be read; listed, never guessed at


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
    """(keys whose values differ between runs, {key: value} of those that do not); runs that
    could not be read have no values, and say nothing either way."""
    keys, constants = [], {}
    runs = [r for r in runs if r.readable]
    for key in order:
        values = {json.dumps(r.params.get(key), sort_keys=True) for r in runs}
        if len(values) > 1:
            keys.append(key)
        elif runs:
            constants[key] = runs[0].params.get(key)
    return tuple(keys), constants


# --- run mode ---------------------------------------------------------------------------

def _manifest_rows(path: Path) -> List[Dict[str, Any]]:
    """Every run the manifest lists; a line that cannot be read is a row that says so."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if isinstance(row, dict) and isinstance(row.get("name"), str):
                rows.append(row)
            else:  # run mode writes it whole: damaged by hand, cut in a copy, or not ours
                rows.append(_unreadable_row(line, f"line {number} of {MANIFEST}"))
    return rows


_NAME_FIELD = re.compile(r'"name":\s*("(?:[^"\\]|\\.)*")')


def _unreadable_row(line: str, where: str) -> Dict[str, Any]:
    """A damaged manifest line as a row: its run's name if that much survived."""
    match = _NAME_FIELD.search(line)
    try:
        name = json.loads(match.group(1)) if match else None
    except ValueError:
        name = None
    return {"name": name if isinstance(name, str) else f"({where})", "status": Status.UNKNOWN,
            "reason": f"{where} could not be read", "readable": False}


def _run_mode_sweep(folder: Path) -> Sweep:
    rows = _manifest_rows(folder / MANIFEST)
    if not rows:
        raise ReportError(f"{folder / MANIFEST} lists no runs")
    locator = _Locator(folder)
    runs = []
    for i, row in enumerate(rows):
        status, reason = str(row.get("status") or Status.UNKNOWN), str(row.get("reason") or "")
        output_dir = row.get("output_dir")
        if output_dir is None and status == Status.RUNNING:
            output_dir = locator.running_output(row)
        elif output_dir and status in FINISHED and not os.path.isdir(output_dir):
            status, reason = Status.MISSING, f"its output folder {output_dir} is gone (deleted or moved)"
        runs.append(RunSource(
            index=row.get("index", i), name=row["name"], status=status, params=dict(row.get("params") or {}),
            output_dir=output_dir, stdout_log=row.get("log"), reason=reason, readable=row.get("readable", True),
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
            script, cwd = self._from_launch() or self._from_multirun_yaml() or (None, None)
            self._settings = train_script_path(script), cwd
        return self._settings

    def _from_launch(self) -> Optional[Tuple[Optional[str], Optional[str]]]:
        for path in sorted(self.folder.glob(".sweep/*/launch.json"), reverse=True):
            settings = _read_json(path)
            if settings and len(settings.get("argv_prefix") or []) >= 2:
                self._launch = path.parent
                return settings["argv_prefix"][1], settings.get("cwd")
        return None

    def _from_multirun_yaml(self) -> Optional[Tuple[Optional[str], Optional[str]]]:
        saved = _multirun_yaml(self.folder)
        cwd = _cwd_of(saved)
        if saved is None or cwd is None:
            return None
        script = (saved.get("launch") or {}).get("train_script")
        if script == ROBOMIMIC:
            return script, cwd
        return (os.path.join(cwd, os.path.expanduser(script)) if isinstance(script, str) else None), cwd

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
        root = output_root(config, script, cwd)
        folders = output_folders(root, row["name"]) if root is not None else []
        started = self.started(row["name"])
        for folder in reversed(folders):
            if started is None or folder_time(folder) >= started - 2:
                return folder
        return None


# --- script mode ------------------------------------------------------------------------

def _script_mode_sweep(folder: Path) -> Sweep:
    paths, script_word = _config_order(folder)
    script = train_script_path(script_word)
    trained_in = _cwd_of(_multirun_yaml(folder))
    configs: List[Tuple[Path, Optional[Dict[str, Any]], str]] = []  # (path, config or None, why not)
    for path in paths:
        config, problem = _read_config(path)
        configs.append((path, config, problem))
    readable = [config for _, config, _ in configs if config is not None]
    if not readable:
        raise ReportError(f"{folder / CONFIGS} holds no readable robomimic config")
    leaves = {id(config): flatten(config) for config in readable}
    keys = differing_leaves(list(leaves.values()))
    runs = []
    for i, (path, config, problem) in enumerate(configs):
        if config is None:
            runs.append(RunSource(i, path.stem, Status.UNKNOWN, {}, None, None,
                                  f"{CONFIGS}/{path.name} could not be read: {problem}", readable=False))
            continue
        params = {k: leaves[id(config)].get(k) for k in keys}
        runs.append(_script_run(i, config, leaves[id(config)], params, output_root(config, script, trained_in)))
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


def _read_config(path: Path) -> Tuple[Optional[Dict[str, Any]], str]:
    """(the run's config, "") or (None, why it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except OSError as e:
        return None, e.strerror or str(e)
    except ValueError as e:
        return None, f"not JSON ({e})"
    return (value, "") if isinstance(value, dict) else (None, "not a JSON object")


def _multirun_yaml(folder: Path) -> Optional[Dict[str, Any]]:
    """The sweep's config as Hydra saved it, or None."""
    try:
        import yaml

        with open(folder / "multirun.yaml") as f:
            saved = yaml.safe_load(f)
    except Exception:  # missing, unreadable, not YAML: unknown
        return None
    return saved if isinstance(saved, dict) else None


def _cwd_of(saved: Optional[Dict[str, Any]]) -> Optional[str]:
    """The folder the sweep was started in (``hydra.runtime.cwd`` of its multirun.yaml): where
    run mode trains, and where ``bash run.sh`` is taken to train; None if it does not say."""
    runtime = ((saved or {}).get("hydra") or {}).get("runtime") or {}
    return str(runtime["cwd"]) if isinstance(runtime, dict) and runtime.get("cwd") else None


def _script_run(index: int, config: Dict[str, Any], leaves: Dict[str, Any], params: Dict[str, Any],
                root: Optional[Path]) -> RunSource:
    """A script-mode run as its output folders show it (``leaves``: its config, flattened): only
    folders whose own ``config.json`` is this config count (another sweep may train runs of the
    same names there); each folder's log is judged once."""
    name = str((config.get("experiment") or {}).get("name"))
    if root is None:
        return RunSource(index, name, Status.UNKNOWN, params, None, None,
                         "train.output_dir is relative, and where its training resolved it is unknown (the sweep "
                         "has no multirun.yaml, or run.sh's train.py is robomimic's and robomimic is not installed)")
    everything = output_folders(root, name)
    folders = [folder for folder in everything if trained_config_is(folder, leaves)]
    if not folders:
        other = f" ({len(everything)} folder(s) of that name hold other configs)" if everything else ""
        return RunSource(index, name, Status.PENDING, params, None, None, f"no output folder yet{other}")
    newest: Optional[LogVerdict] = None
    for folder in reversed(folders):
        verdict = log_verdict(os.path.join(folder, "logs", "log.txt"))
        if verdict.finished:
            return RunSource(index, name, Status.SUCCEEDED, params, folder, None, "")
        newest = newest or verdict
    status, reason = _unfinished_status(newest)
    return RunSource(index, name, status, params, folders[-1], None, reason)


def trained_config_is(run_dir: str, leaves: Dict[str, Any]) -> bool:
    """Whether the training in ``run_dir`` ran the config whose :func:`flatten` is ``leaves``:
    every value it sets is in the ``config.json`` robomimic wrote there (which adds its
    defaults), as its train.py writes it."""
    trained, _ = _read_config(Path(run_dir) / "config.json")
    if trained is None:
        return False
    have = flatten(trained)
    return all(key in have and _trained_as(key, value, have[key]) for key, value in leaves.items())


def _trained_as(key: str, value: Any, trained: Any) -> bool:
    """Whether ``trained`` (config.json's) is what robomimic's train.py makes of the config's
    ``value``: the value itself, or for ``train.data`` what a robomimic that rewrites it writes
    (``Profile.trained_data``: 0.5's and master's train.py turn a string into ``[{"path": ...}]``
    before writing config.json). A script-mode sweep does not record which robomimic ran its
    run.sh, so any robomimic's rewrite counts: each names the same dataset."""
    if trained == value:
        return True
    return key == DATA_KEY and any(trained == profile.trained_data(value) for profile in _profiles())


@functools.lru_cache(maxsize=None)
def _profiles() -> Tuple[Profile, ...]:
    """The bundled robomimics' profiles: every family's train.py semantics, read once."""
    return tuple(bundled(name).profile for name in BUNDLED)


def _unfinished_status(verdict: LogVerdict) -> Tuple[str, str]:
    """The status of a run whose newest folder's log (``verdict``) does not say it finished."""
    if not verdict.exists:
        return Status.UNKNOWN, "no logs/log.txt (terminal_output_to_txt=false?): whether it finished is unknown"
    if verdict.failed:
        return Status.FAILED, verdict.error or "run failed"
    return Status.UNFINISHED, "its log has no 'finished run successfully!': still running, or stopped"


# --- output folders ---------------------------------------------------------------------

def train_script_path(script: Optional[str]) -> Optional[str]:
    """The train script a sweep's runs ran, as a path, resolved once per sweep: robomimic's own
    (``launch.train_script=robomimic``, run.sh's bare ``train.py``, which runs from
    robomimic/scripts, or a script not known) is the installed robomimic's ``train.py``, None if
    there is none; any other is the path given."""
    if script is None or script in (ROBOMIMIC, ROBOMIMIC_LINE_SCRIPT):
        robomimic_train = installed_train_script()
        return str(robomimic_train) if robomimic_train is not None else None
    return script


def output_root(config: Dict[str, Any], script: Optional[str], cwd: Optional[str]) -> Optional[Path]:
    """Where ``config``'s training wrote ``<name>/<timestamp>``, resolved as the training
    resolved it: robomimic's train.py against its package folder, other scripts against
    ``cwd``, the folder they trained in. ``script`` is :func:`train_script_path`'s (None:
    unknown). None when that cannot be known: never this process's folder."""
    setting = output_dir_setting((config.get("train") or {}).get("output_dir"), config.get("algo_name"))
    if os.path.isabs(os.path.expanduser(setting)) or script is not None and is_robomimics_own(script):
        return resolve_output_root(setting, script or "", Path("/"))
    return None if cwd is None or script is None else resolve_output_root(setting, script, Path(cwd))


def output_folders(root: Path, name: str) -> List[str]:
    """The timestamped run folders of ``<root>/<name>/``, oldest first."""
    return [str(root / name / n) for n in timestamp_folders(root / name)]


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
