"""Running one robomimic training process and judging whether it succeeded.

robomimic's ``train.py`` hides failures: it catches its own crash, prints
``run failed with error:`` and exits 0. It also asks on stdin whether to delete
``<output_dir>/<name>`` when that folder exists, and ``y`` deletes every earlier
run of that name. A run here fails on a non-zero exit *or* on that message, and
stdin gets one ``n`` and then end-of-file: nothing blocks, nothing is deleted
(robomimic then adds a new timestamped folder).
"""
import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from launcher.errors import SweepError

ROBOMIMIC_FAILURE = "run failed with error:"
PROMPT_ANSWER = b"n\n"


@dataclass(frozen=True)
class TrainingResult:
    succeeded: bool
    exit_code: int
    duration_s: float
    reason: str  # why it failed, "" on success


def robomimic_train_script() -> Path:
    """The installed robomimic's ``scripts/train.py``."""
    spec = importlib.util.find_spec("robomimic")
    if spec is None or not spec.submodule_search_locations:
        raise SweepError(
            "launch.train_script=robomimic needs robomimic installed in this Python "
            f"({sys.executable}); pip install robomimic, or give a path to train.py"
        )
    script = Path(list(spec.submodule_search_locations)[0]) / "scripts" / "train.py"
    if not script.is_file():
        raise SweepError(f"launch.train_script=robomimic: {script} does not exist")
    return script


def resolve_train_script(train_script: str, cwd: Path) -> Path:
    """``launch.train_script`` as an absolute path that exists (checked before launching)."""
    if train_script == "robomimic":
        return robomimic_train_script()
    path = Path(os.path.abspath(cwd / os.path.expanduser(train_script)))
    if not path.is_file():
        raise SweepError(f"launch.train_script: {path} does not exist")
    return path


def resolve_output_dir(output_dir: str, train_script: Path, cwd: Path) -> Path:
    """Where the training writes ``<name>/<timestamp>/``, as the script itself resolves it.

    robomimic resolves a relative ``train.output_dir`` against its package folder;
    other scripts (train_stub.py included) run with ``cwd`` as working directory.
    """
    path = Path(os.path.expanduser(output_dir))
    if path.is_absolute():
        return path
    spec = importlib.util.find_spec("robomimic")
    if spec is not None and spec.submodule_search_locations:
        package = Path(list(spec.submodule_search_locations)[0]).resolve()
        if package in train_script.resolve().parents:
            return Path(os.path.abspath(package / path))
    return Path(os.path.abspath(cwd / path))


def run_training(train_script: Path, config_path: Path, log_path: Path, cwd: Path) -> TrainingResult:
    """``python <train_script> --config <config_path>``, output streamed to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    saw_failure: Optional[str] = None
    with open(log_path, "w") as log:
        log.write(f"$ {sys.executable} {train_script} --config {config_path}\n")
        log.flush()
        process = subprocess.Popen(
            [sys.executable, str(train_script), "--config", str(config_path)],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(PROMPT_ANSWER.decode())
            process.stdin.close()
        except BrokenPipeError:
            pass  # the script exited without reading stdin
        for line in process.stdout:
            log.write(line)
            if saw_failure is None and ROBOMIMIC_FAILURE in line:
                saw_failure = line.strip()
        exit_code = process.wait()
    duration = time.monotonic() - start
    if exit_code != 0:
        reason = f"exit code {exit_code}"
    elif saw_failure is not None:
        reason = f"printed '{ROBOMIMIC_FAILURE}' (robomimic exits 0 on a crash)"
    else:
        reason = ""
    return TrainingResult(succeeded=not reason, exit_code=exit_code, duration_s=duration, reason=reason)
