"""How a run is trained: ``<python> <train script> --config <json> <extra args>``.

Made in one place, :class:`TrainCommand`, for the lines of ``run.sh`` and for run
mode alike, so that a sweep trains in run mode exactly what its script would. The
shipped stub also learns which robomimic to behave as (``ROBOMIMIC_SWEEP_ROBOMIMIC``,
before the command in ``run.sh``; run mode sets it for every training).
"""
import functools
import importlib.util
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

from launcher.core.errors import SweepError
from launcher.robomimic.paths import installed_train_script
from launcher.robomimic.versions import ENV_VAR, Robomimic

ROBOMIMIC = "robomimic"  # launch.train_script=robomimic: the installed robomimic's train.py
STUB = "stub"  # launch.train_script=stub: the train_stub.py that ships with the launcher


def robomimic_train_script(folder: Optional[str] = None) -> Path:
    """``scripts/train.py`` of the robomimic in ``folder``, else of the one installed in this
    Python; a SweepError saying how to get one."""
    script = Path(folder) / "scripts" / "train.py" if folder else installed_train_script()
    if script is None:
        raise SweepError(
            "launch.train_script=robomimic needs robomimic installed in this Python "
            f"({sys.executable}); pip install robomimic, or give a path to train.py"
        )
    if not script.is_file():
        raise SweepError(f"launch.train_script=robomimic: {script} does not exist")
    return script


def stub_train_script() -> Path:
    """The shipped ``train_stub.py``: the checkout's, or the installed module's file."""
    spec = importlib.util.find_spec("train_stub")
    if spec is None or not spec.origin:
        raise SweepError("launch.train_script=stub: train_stub.py is not installed beside the launcher; "
                         "reinstall it (pip install robomimic-hydra-sweeper) or give the stub's path")
    return Path(spec.origin)


@dataclass(frozen=True)
class TrainCommand:
    """``<python> <train script> --config <json> <extra args>``, for run.sh and run mode.

    ``extra_args`` are words: run mode passes them as they are, and ``run.sh`` quotes each
    one where the shell needs it, so ``bash run.sh`` trains exactly what run mode trains
    (``--debug`` stays ``--debug``, the line robocasa's ``extra_flags`` writes)."""

    python: str
    script: str
    extra_args: Tuple[str, ...] = ()
    # Environment variables the training needs, set before the command in run.sh (the stub's robomimic).
    env: Tuple[Tuple[str, str], ...] = ()

    @property
    def words(self) -> Tuple[str, ...]:
        """The command without its config: what, besides the config, decides what a run trains."""
        return (*(f"{name}={value}" for name, value in self.env), self.python, self.script, *self.extra_args)

    def argv(self, config_path: Path) -> List[str]:
        return [self.python, self.script, "--config", str(config_path), *self.extra_args]

    def line(self, config_path: str) -> str:
        """The shell line, quoted only where the shell needs it (robomimic's own line by default)."""
        return f"{self._line_prefix} {shlex.quote(config_path)}{self._line_suffix}"

    @functools.cached_property
    def _line_prefix(self) -> str:  # the same for every run: quoted once
        env = [f"{name}={shlex.quote(value)}" for name, value in self.env]
        return " ".join([*env, *(shlex.quote(word) for word in (self.python, self.script, "--config"))])

    @functools.cached_property
    def _line_suffix(self) -> str:
        return "".join(f" {shlex.quote(arg)}" for arg in self.extra_args)


ROBOMIMIC_LINE_SCRIPT = "train.py"  # robomimic's own lines: run from robomimic/scripts


def train_command(train_script: str, python: Optional[str], extra_args: Tuple[str, ...], cwd: Path,
                  run_mode: bool, robomimic: Optional[Robomimic] = None) -> TrainCommand:
    """The command every run trains with.

    robomimic's script lines are ``python train.py --config <json>``, and so are ours
    by default. ``launch.train_script=robomimic`` means the ``train.py`` of the installed
    robomimic the sweep is checked against (``launch.python``'s, by default this
    Python's), called with that interpreter, so ``run.sh`` works without activating an
    environment; ``stub`` likewise names the shipped ``train_stub.py``, told which
    robomimic to be (versions.ENV_VAR). Any other path is made absolute, so ``run.sh``
    runs from any folder. Run mode always calls an existing script with an interpreter
    that runs.
    """
    if python is not None:
        python = _absolute_if_path(python, cwd)
        if run_mode:
            check_python(python)
    if train_script in (ROBOMIMIC, STUB):
        folder = robomimic.folder if robomimic is not None else None
        script = str(robomimic_train_script(folder) if train_script == ROBOMIMIC else stub_train_script())
        env = ((ENV_VAR, robomimic.selection),) if train_script == STUB and robomimic is not None else ()
        return TrainCommand(python=python or sys.executable, script=script, extra_args=extra_args, env=env)
    python = python or (sys.executable if run_mode else "python")
    if train_script == ROBOMIMIC_LINE_SCRIPT and not run_mode:
        return TrainCommand(python=python, script=train_script, extra_args=extra_args)
    script = os.path.abspath(cwd / os.path.expanduser(train_script))
    if run_mode and not Path(script).is_file():
        raise SweepError(f"launch.train_script: {script} does not exist")
    return TrainCommand(python=python, script=script, extra_args=extra_args)


def _absolute_if_path(command: str, cwd: Path) -> str:
    """A relative path (``venv/bin/python``) from ``cwd``; a command name (``python3``) as it is."""
    command = os.path.expanduser(command)
    return os.path.abspath(cwd / command) if os.sep in command else command


def check_python(python: str) -> None:
    """Run mode, before anything is written: ``launch.python`` exists and runs."""
    import subprocess  # only here: it costs list and script mode 2.5 ms to import

    found = shutil.which(python)
    if found is None:
        what = "does not exist" if not os.path.exists(python) else "is not an executable file"
        raise SweepError(f"launch.python: {python} {what}")
    try:
        probe = subprocess.run([found, "-c", "pass"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise SweepError(f"launch.python: {python} cannot run: {getattr(e, 'strerror', None) or e}") from None
    if probe.returncode != 0:
        from launcher.robomimic.logs import last_line

        last = last_line(probe.stderr) or f"exit code {probe.returncode}"
        raise SweepError(f"launch.python: {python} cannot run Python (`{python} -c pass`: {last})")
