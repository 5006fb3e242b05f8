"""Writing a sweep's files: atomic, so an interrupted sweep never leaves a truncated file."""
import contextlib
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, TextIO

from launcher.robomimic_config import config_json

if TYPE_CHECKING:
    from launcher.plan import LaunchOptions, SweepPlan

SCRIPT_HEADER = "#!/bin/bash\n\n"


@contextlib.contextmanager
def atomic_file(path: Path, mode: int = 0o644) -> Iterator[TextIO]:
    """A file opened for writing that appears at ``path`` whole, or not at all.

    Written to a temporary name in the same folder and renamed into place when the
    block ends without error.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as f:
            yield f
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: Path, text: str) -> None:
    with atomic_file(path) as f:
        f.write(text)


def train_command(train_script: str, config_path: str) -> str:
    """robomimic's ``python train.py --config <json>``, quoted only where the shell needs it."""
    return f"python {shlex.quote(train_script)} --config {shlex.quote(config_path)}"


def emit_script(plan: "SweepPlan", options: "LaunchOptions") -> None:
    """Write every run's JSON to ``options.config_dir`` and the bash script that trains them.

    Streams: one run's config exists in memory at a time. The script is renamed into
    place last, so it only ever appears complete, after every config it names.
    """
    options.config_dir.mkdir(parents=True, exist_ok=True)
    options.script_file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(options.script_file, mode=0o755) as script:
        script.write(SCRIPT_HEADER)
        for name, choice in plan.runs():
            path = options.config_dir / f"{name}.json"
            atomic_write(path, config_json(plan.run_config(name, choice)))
            script.write(train_command(options.train_script, str(path)) + "\n")
