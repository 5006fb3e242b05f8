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
    """``<python> <train script> --config <json> <extra args>``, for run.sh and run mode."""

    python: str
    script: str
    extra_args: Tuple[str, ...] = ()
    # The extra arguments as the user typed them, appended verbatim to script lines
    # (as robomimic's generate(extra_flags=...) does); None when given as a list.
    extra_text: Optional[str] = None
    # Environment variables the training needs, set before the command in run.sh (the stub's robomimic).
    env: Tuple[Tuple[str, str], ...] = ()

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
        if self.extra_text is not None:
            return f" {self.extra_text}" if self.extra_text else ""
        return "".join(f" {shlex.quote(arg)}" for arg in self.extra_args)


def train_command(train_script: str, python: Optional[str], extra_args: Tuple[str, ...],
                  extra_text: Optional[str], cwd: Path, run_mode: bool,
                  robomimic: Optional[Robomimic] = None) -> TrainCommand:
    """The command every run trains with.

    robomimic's script lines are ``python train.py --config <json>``, and so are ours
    by default. ``launch.train_script=robomimic`` means the ``train.py`` of the installed
    robomimic the sweep is checked against (``launch.python``'s, by default this
    Python's), called with that interpreter, so ``run.sh`` works without activating an
    environment; ``stub`` likewise names the shipped ``train_stub.py``, told which
    robomimic to be (versions.ENV_VAR). Run mode always calls an existing script with
    a real interpreter.
    """
    env: Tuple[Tuple[str, str], ...] = ()
    if train_script in (ROBOMIMIC, STUB):
        folder = robomimic.folder if robomimic is not None else None
        script = str(robomimic_train_script(folder) if train_script == ROBOMIMIC else stub_train_script())
        python = python or sys.executable
        if train_script == STUB and robomimic is not None:
            env = ((ENV_VAR, robomimic.selection),)
    else:
        script = train_script
        python = python or (sys.executable if run_mode else "python")
        if run_mode:
            path = Path(os.path.abspath(cwd / os.path.expanduser(script)))
            if not path.is_file():
                raise SweepError(f"launch.train_script: {path} does not exist")
            script = str(path)
    return TrainCommand(python=python, script=script, extra_args=extra_args, extra_text=extra_text, env=env)
