"""The ``launch`` options, checked once, and the training command every run uses.

Built from plain values (the resolved ``launch`` section and the folder the sweep
was started in), so the rest of the launcher never reads Hydra's config. The
command a run trains with is made in one place, :class:`TrainCommand`, for the
lines of ``run.sh`` and for run mode alike.
"""
import functools
import math
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from launcher.core.errors import SweepError
from launcher.robomimic_paths import installed_train_script

MODES = ("script", "run", "list")
ROBOMIMIC = "robomimic"  # launch.train_script=robomimic: the installed robomimic's train.py


@dataclass(frozen=True)
class LaunchOptions:
    """The ``launch`` section of the app config; paths absolute."""

    mode: str
    config_dir: Path
    script_file: Path
    train_script: str  # as given: a path, or "robomimic"
    python: Optional[str]
    extra_args: Tuple[str, ...]
    # None: the sweep file's, else "debug"; False: not written (the base's value stays); a name.
    wandb_proj_name: Any
    extra_text: Optional[str] = None  # launch.extra_args as typed, when a string
    overwrite: bool = False
    rerun: bool = False
    report: bool = True
    timeout_min: Optional[float] = None
    gpus: Any = None  # None, "auto" or a tuple of device ids
    runs_per_gpu: int = 1

    @staticmethod
    def from_mapping(launch: Dict[str, Any], cwd: Path) -> "LaunchOptions":
        mode = launch.get("mode")
        if mode not in MODES:
            raise SweepError(f"launch.mode must be one of {', '.join(MODES)}; got {mode!r}")
        return LaunchOptions(
            mode=mode,
            config_dir=_path(launch, "config_dir", cwd),
            script_file=_path(launch, "script_file", cwd),
            train_script=_text(launch, "train_script"),
            python=_optional_text(launch, "python"),
            extra_args=_extra_args(launch.get("extra_args")),
            extra_text=launch.get("extra_args") if isinstance(launch.get("extra_args"), str) else None,
            wandb_proj_name=_wandb_proj_name(launch.get("wandb_proj_name")),
            overwrite=_flag(launch, "overwrite"),
            rerun=_flag(launch, "rerun"),
            report=_flag(launch, "report", default=True),
            timeout_min=_timeout(launch.get("timeout_min")),
            gpus=_gpus(launch.get("gpus")),
            runs_per_gpu=_runs_per_gpu(launch.get("runs_per_gpu", 1)),
        )


def _path(launch: Dict[str, Any], field: str, cwd: Path) -> Path:
    value = launch.get(field)
    if not isinstance(value, str) or not value:
        raise SweepError(f"launch.{field} must be a path, got {value!r}")
    # Absolute, so the script runs from any folder, as robomimic's does.
    return Path(os.path.abspath(cwd / os.path.expanduser(value)))


def _text(launch: Dict[str, Any], field: str) -> str:
    value = launch.get(field)
    if not isinstance(value, str) or not value:
        raise SweepError(f"launch.{field} must be a non-empty string, got {value!r}")
    return value


def _optional_text(launch: Dict[str, Any], field: str) -> Optional[str]:
    return None if launch.get(field) is None else _text(launch, field)


def _wandb_proj_name(value: Any) -> Any:
    if value is None or value is False or isinstance(value, str):
        return value
    raise SweepError(
        "launch.wandb_proj_name must be a project name (quote one that looks like a number), "
        f"null for the sweep file's (else debug), or false to leave the base's value; got {value!r}"
    )


def _flag(launch: Dict[str, Any], field: str, default: bool = False) -> bool:
    value = launch.get(field, default)
    if not isinstance(value, bool):
        raise SweepError(f"launch.{field} must be true or false, got {value!r}")
    return value


def _extra_args(value: Any) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as e:
            raise SweepError(f"launch.extra_args: cannot split {value!r} into shell words: {e}") from None
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                for v in value):
        return tuple(str(v) for v in value)
    raise SweepError(f"launch.extra_args must be a string of shell words or a list of strings, got {value!r}")


def _timeout(value: Any) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SweepError(f"launch.timeout_min must be a positive number of minutes, got {value!r}")
    return float(value)


def _gpus(value: Any) -> Any:
    if value is None or value == "auto":
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                for v in value):
        if len(set(value)) != len(value):
            raise SweepError(f"launch.gpus lists a device twice: {list(value)}")
        return tuple(value)
    raise SweepError(f"launch.gpus must be a list of device ids (e.g. [0,1]), auto, or null; got {value!r}")


def _runs_per_gpu(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SweepError(f"launch.runs_per_gpu must be an int >= 1, got {value!r}")
    return value


def robomimic_train_script() -> Path:
    """The installed robomimic's ``scripts/train.py``, or a SweepError saying how to get one."""
    script = installed_train_script()
    if script is None:
        raise SweepError(
            "launch.train_script=robomimic needs robomimic installed in this Python "
            f"({sys.executable}); pip install robomimic, or give a path to train.py"
        )
    if not script.is_file():
        raise SweepError(f"launch.train_script=robomimic: {script} does not exist")
    return script


@dataclass(frozen=True)
class TrainCommand:
    """``<python> <train script> --config <json> <extra args>``, for run.sh and run mode."""

    python: str
    script: str
    extra_args: Tuple[str, ...] = ()
    # The extra arguments as the user typed them, appended verbatim to script lines
    # (as robomimic's generate(extra_flags=...) does); None when given as a list.
    extra_text: Optional[str] = None

    def argv(self, config_path: Path) -> List[str]:
        return [self.python, self.script, "--config", str(config_path), *self.extra_args]

    def line(self, config_path: str) -> str:
        """The shell line, quoted only where the shell needs it (robomimic's own line by default)."""
        return f"{self._line_prefix} {shlex.quote(config_path)}{self._line_suffix}"

    @functools.cached_property
    def _line_prefix(self) -> str:  # the same for every run: quoted once
        return " ".join(shlex.quote(word) for word in (self.python, self.script, "--config"))

    @functools.cached_property
    def _line_suffix(self) -> str:
        if self.extra_text is not None:
            return f" {self.extra_text}" if self.extra_text else ""
        return "".join(f" {shlex.quote(arg)}" for arg in self.extra_args)


def train_command(options: LaunchOptions, cwd: Path, run_mode: bool) -> TrainCommand:
    """The command every run trains with.

    robomimic's script lines are ``python train.py --config <json>``, and so are ours
    by default. ``launch.train_script=robomimic`` means the installed robomimic's
    ``train.py``, called with the interpreter it is installed in (this one), so
    ``run.sh`` works without activating an environment. Run mode always calls an
    existing script with a real interpreter.
    """
    if options.train_script == ROBOMIMIC:
        script = str(robomimic_train_script())
        python = options.python or sys.executable
    else:
        script = options.train_script
        python = options.python or (sys.executable if run_mode else "python")
        if run_mode:
            path = Path(os.path.abspath(cwd / os.path.expanduser(script)))
            if not path.is_file():
                raise SweepError(f"launch.train_script: {path} does not exist")
            script = str(path)
    return TrainCommand(python=python, script=script, extra_args=options.extra_args, extra_text=options.extra_text)
