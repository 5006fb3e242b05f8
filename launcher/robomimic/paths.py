"""Where robomimic is installed, what it reads as a dataset, and where its ``train.py`` writes a run.

robomimic writes each run to ``<train.output_dir>/<experiment.name>/<YYYYmmddHHMMSS>/``
and resolves a relative ``train.output_dir`` against its own package folder. Run mode
(resume markers, a run's output folder), the report (a run's logs) and the script
lines (``launch.train_script=robomimic``) all need these answers; they come from here.
"""
import importlib.util
import os
import time
from pathlib import Path
from typing import Any, List, Optional, Tuple

from launcher.core.errors import SweepError


def robomimic_package() -> Optional[Path]:
    """The installed robomimic's package folder, found without importing it; None if absent."""
    try:
        spec = importlib.util.find_spec("robomimic")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def installed_train_script() -> Optional[Path]:
    """``<robomimic package>/scripts/train.py``; None if robomimic is not installed."""
    package = robomimic_package()
    return None if package is None else package / "scripts" / "train.py"


def output_dir_setting(value: Any, algo: Any) -> str:
    """``train.output_dir`` of a run, or robomimic's default when a partial config leaves it out:
    ``../<algo>_trained_models`` (base_config.py's rule in every recorded robomimic; tests hold
    it to each bundled schema)."""
    if value is None:
        value = f"../{algo}_trained_models"
    return str(value)


def resolve_output_root(output_dir: str, train_script: str, cwd: Path) -> Path:
    """Where the training writes ``<name>/<timestamp>/``, as the script itself resolves it:
    robomimic's own train.py against its package folder, other scripts (train_stub.py
    included) against ``cwd``, their working directory."""
    path = Path(os.path.expanduser(output_dir))
    if path.is_absolute():
        return path
    package = _package_of(train_script)
    return Path(os.path.abspath((package if package is not None else cwd) / path))


def is_robomimics_own(train_script: str) -> bool:
    """Whether ``train_script`` is a robomimic's (which resolves a relative
    ``train.output_dir`` against its package folder, wherever it runs)."""
    return _package_of(train_script) is not None


def _package_of(train_script: str) -> Optional[Path]:
    """The robomimic package folder ``train_script`` is in (resolved), or None.

    ``<package>/scripts/<script>`` of any robomimic package: ``launch.train_script=robomimic``
    is the ``scripts/train.py`` of the robomimic the sweep is checked against, which is
    ``launch.python``'s and may not be this interpreter's; its ``train.py`` imports that
    package and resolves against it. Else any file in the package this interpreter imports."""
    script = Path(train_script).resolve()
    folder = script.parent.parent
    if script.parent.name == "scripts" and folder.name == "robomimic" and (folder / "__init__.py").is_file():
        return folder
    package = robomimic_package()
    if package is None:
        return None
    package = package.resolve()
    return package if package in script.parents else None


def timestamp_folders(folder: Path) -> Tuple[str, ...]:
    """The run folders (``<YYYYmmddHHMMSS>``) in ``<output root>/<name>``, oldest first."""
    try:
        return tuple(sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")))
    except OSError:
        return ()


def new_run_folders(folder: Path, before: Tuple[str, ...]) -> List[Path]:
    """Run folders in ``folder`` that were not in ``before``."""
    return [folder / name for name in timestamp_folders(folder) if name not in before]


def folder_time(folder: str) -> float:
    """When robomimic made a ``<YYYYmmddHHMMSS>`` folder (local time); 0 if the name is not one."""
    try:
        return time.mktime(time.strptime(os.path.basename(folder), "%Y%m%d%H%M%S"))
    except (ValueError, OverflowError):
        return 0.0


def check_dataset(value: Any, cwd: Path, run: str) -> None:
    """Run mode: robomimic's train.py fails on every run whose ``train.data`` names no file:
    one path, or each ``path`` of a list of datasets (its form was checked with the keys)."""
    if value is None:
        raise SweepError(
            f"train.data is not set (run {run}); robomimic's train.py needs a dataset: "
            "pass train.data=/path/to/dataset.hdf5"
        )
    if isinstance(value, str):
        _check_file(value, "train.data", cwd, run)
        return
    if not isinstance(value, (list, tuple)):
        raise SweepError(f"train.data must be a path to an hdf5 file, got {value!r} (run {run})")
    for i, entry in enumerate(value):
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str):
            raise SweepError(f"train.data[{i}] must be a dataset with a 'path', got {entry!r} (run {run})")
        _check_file(path, f"train.data[{i}]", cwd, run)


def _check_file(value: str, what: str, cwd: Path, run: str) -> None:
    # robomimic expands ~ and resolves the rest against the working directory.
    path = cwd / os.path.expanduser(value)
    if path.is_dir():
        raise SweepError(f"{what}: {value} is a folder, not an hdf5 file (run {run})")
    if not path.is_file():
        raise SweepError(
            f"{what}: {value} does not exist (run {run}); robomimic's train.py would fail "
            "on it. Point it at your hdf5 dataset."
        )
