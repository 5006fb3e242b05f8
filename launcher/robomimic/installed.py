"""The robomimic a training interpreter imports: where it is, and its schema, cached.

Why: the strict check before launch must be right for the robomimic that will train,
and that is whichever one ``launch.python`` (default: this interpreter) imports, an
editable source tree, a branch or a lab's fork as much as the package index's. Its
schema is read from its own ``config_factory`` by ``dump_config.py``, run with that
interpreter (about 0.2 s), once: the answer is cached under
``$XDG_CACHE_HOME/robomimic-sweep`` (default ``~/.cache/robomimic-sweep``), keyed by
the package itself (its folder and the size and mtime of the files that define
configs, and of its train.py), never by its version string: forks and branches share
version numbers (the robocasa branch says 0.3.0).
"""
import json
import os
import shutil
import sys
import zlib
from pathlib import Path
from typing import Any, Dict, List, Optional

from launcher.core.errors import SweepError
from launcher.robomimic import schema_file
from launcher.robomimic.paths import robomimic_package
from launcher.robomimic.versions import INSTALLED, Robomimic, detect_profile, from_document

DUMP_SCRIPT = Path(__file__).with_name("dump_config.py")
CACHE_FOLDER = "robomimic-sweep"
DUMP_TIMEOUT_S = 300.0

# Where an interpreter finds robomimic, without importing it (robomimic prints at import),
# on a line of its own after a marker that no other program prints.
_MARK = "robomimic-sweep robomimic package: "
_FIND = ("import importlib.util as u\n"
         "s = u.find_spec('robomimic')\n"
         f"print({_MARK!r} + (list(s.submodule_search_locations)[0] if s and s.submodule_search_locations else ''))\n")


class InterpreterMissing(SweepError):
    """``launch.python`` cannot be run on this machine (it may be a cluster's)."""


def interpreter_name(python: Optional[str]) -> str:
    return f"launch.python={python}" if python else f"this Python ({sys.executable})"


def _same_interpreter(python: Optional[str]) -> bool:
    """This interpreter itself. Not by resolving links: a virtual environment's python is a
    link to the base interpreter, with packages of its own."""
    if python is None:
        return True
    found = shutil.which(python)
    return found is not None and os.path.abspath(found) == os.path.abspath(sys.executable)


def package_folder(python: Optional[str] = None) -> Optional[Path]:
    """The robomimic package folder ``python`` (None: this interpreter) imports; None if none."""
    if _same_interpreter(python):
        return robomimic_package()
    import subprocess  # only for another interpreter: it costs a sweep 5 ms to import

    try:
        proc = subprocess.run([python, "-c", _FIND], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InterpreterMissing(f"launch.python={python}: cannot run it: {e}") from None
    found = [line[len(_MARK):] for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    if proc.returncode != 0 or not found:
        raise InterpreterMissing(f"launch.python={python}: it does not run as Python here "
                                 f"(exit code {proc.returncode}: {_last_line(proc.stderr)})")
    return Path(found[-1]) if found[-1] and os.path.isdir(found[-1]) else None


def _identity_files(folder: Path) -> List[Path]:
    """The files whose change can change the schema or the profile."""
    config = folder / "config"
    files = sorted(config.glob("*.py")) if config.is_dir() else []
    return [folder / "__init__.py", *files, folder / "scripts" / "train.py", DUMP_SCRIPT]


def cache_key(folder: Path) -> str:
    """The package's identity: its folder, and the size and mtime of every file that defines it."""
    parts = [str(folder.resolve()), str(schema_file.FORMAT)]
    for path in _identity_files(folder):
        try:
            st = path.stat()
            parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{path.name}:-")
    return "\n".join(parts)


def _file_name(key: str) -> str:
    """A short name for a key (zlib: hashlib costs every sweep 6 ms to import); the file
    holds the whole key, so that two keys of one name never pass for each other."""
    data = key.encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.json"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / CACHE_FOLDER / "schemas"


_LOADED: Dict[str, Robomimic] = {}  # per cache key: read once per process


def installed_robomimic(python: Optional[str] = None) -> Optional[Robomimic]:
    """The robomimic ``python`` imports, its schema from the cache or read now; None if it has none."""
    folder = package_folder(python)
    if folder is None:
        return None
    key = cache_key(folder)
    if key not in _LOADED:
        path = cache_dir() / _file_name(key)
        document = _read_cached(path, key)
        if document is None:
            document = {**record(python, folder), "cache_key": key}
            _write_cached(path, document)
        _LOADED[key] = from_document(document, folder=str(folder))
    return _LOADED[key]


def record(python: Optional[str], folder: Path) -> Dict[str, Any]:
    """The schema document of the robomimic in ``folder``, read by ``python`` itself."""
    dump = run_dump([python or sys.executable], env=None, what=f"{interpreter_name(python)} (robomimic at {folder})")
    return make_document(dump, INSTALLED, f"installed at {dump['package']}", folder / "scripts" / "train.py")


def make_document(dump: Dict[str, Any], name: str, recorded_from: str, train_py: Path) -> Dict[str, Any]:
    """A dump (dump_config.py's output) as a schema document, with the profile its train.py implies."""
    text = train_py.read_text(errors="replace") if train_py.is_file() else ""
    about = {"name": name, "version": dump["version"], "recorded_from": recorded_from}
    return schema_file.pack(dump["algorithms"], about, detect_profile(dump["algorithms"], text).to_dict())


def run_dump(python: List[str], env: Optional[Dict[str, str]], what: str) -> Dict[str, Any]:
    """``<python> dump_config.py``: every registered algorithm of the robomimic it imports."""
    import subprocess

    try:
        proc = subprocess.run([*python, str(DUMP_SCRIPT)], capture_output=True, text=True, env=env,
                              timeout=DUMP_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SweepError(f"{what}: cannot read robomimic's configs: {e}") from None
    if proc.returncode != 0:
        raise SweepError(f"{what}: robomimic's config code failed to load: {_last_line(proc.stderr)}")
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise SweepError(f"{what}: robomimic's configs could not be read (unexpected output)") from None


def _read_cached(path: Path, key: str) -> Optional[Dict[str, Any]]:
    try:
        document = schema_file.read(str(path))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != schema_file.FORMAT:
        return None
    return document if document.get("cache_key") == key else None


def _write_cached(path: Path, document: Dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs the next sweep the read again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(schema_file.text(document))
        os.replace(tmp, path)
    except OSError:
        pass


def _last_line(text: str) -> str:
    from launcher.robomimic.logs import last_line  # only on these error paths

    return last_line(text) or "(no message)"
