"""The ``launch`` options: defined once, checked once.

:class:`LaunchConf` is the one definition of every ``launch.*`` field: its type, its
default and its help. Hydra gets it as the app's ``robomimic_launch`` schema (so a
mistyped option fails at composition: ``Key 'tmeout_min' not in 'LaunchConf'``),
``--help`` prints its help lines (:func:`launch_help`), and :class:`LaunchOptions` is
built from it: one reader per field (:data:`READERS`) turns the resolved section into
plain, checked values, so the rest of the launcher never reads Hydra's config.
tests/test_launch_options.py holds the three together.
"""
import math
import os
import shlex
import textwrap
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from launcher.core.errors import SweepError
from launcher.robomimic.train_command import TrainCommand, train_command
from launcher.robomimic.versions import Robomimic

MODES = ("script", "run", "list")
MAX_RUNS_PER_GPU = 64
DEFAULT_MAX_REQUEUES = 3
RESUME_CHOICES = ("auto", True, False)


def _option(default: Any, help: str, **kwargs: Any) -> Any:
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass
class LaunchConf:
    """The app's ``launch`` section (``launch.NAME=value`` on the command line)."""

    mode: str = _option("script", "script: write the configs and run.sh (default); run: also train every run "
                                  "through hydra/launcher (basic, joblib, submitit_local, submitit_slurm, "
                                  "robomimic_slurm); list: print the runs, write nothing")
    config_dir: str = _option("${hydra:sweep.dir}/configs", "where the configs go (default <sweep dir>/configs)")
    script_file: str = _option("${hydra:sweep.dir}/run.sh", "the bash script (default <sweep dir>/run.sh)")
    train_script: str = _option("train.py", "train.py (default), a path, robomimic for the scripts/train.py of "
                                            "the robomimic launch.python imports, or stub for the shipped "
                                            "train_stub.py")
    python: Optional[str] = _option(None, "the interpreter of the training command (default: python in run.sh, "
                                          "this one in run mode and for train_script=robomimic|stub)")
    robomimic: str = _option("auto", "the robomimic the configs are checked against and conf/ composes (give it on the "
                                     "command line): auto (default: the one launch.python imports, else the newest "
                                     "release, 0.5.0), installed, or a bundled schema: 0.3.0, 0.5.0, master, robocasa, "
                                     "dexmimicgen")
    extra_args: Any = _option(None, "arguments appended to every training command: shell words (\"--debug\") "
                                    "or a list ([a, b]); run.sh quotes each word")
    wandb_proj_name: Any = _option(None, "written to experiment.logging.wandb_proj_name (default: the sweep "
                                         "file's, else what the robomimic's generator writes: debug (0.3.0, "
                                         "robocasa) or nothing (0.5, master); false: not written)")
    overwrite: bool = _option(False, "replace existing configs/script that hold something else (default false)")
    rerun: bool = _option(False, "run mode: train runs that already finished again (default false)")
    report: bool = _option(True, "run mode: write the results report at the end (default true)")
    timeout_min: Optional[float] = _option(None, "run mode: end a run that trains longer than this many minutes "
                                                 "(default none)")
    gpus: Any = _option(None, "run mode: GPU ids to share ([0,1]), auto, or none; one device per run")
    runs_per_gpu: int = _option(1, f"run mode: runs that may share one GPU at once (default 1, at most "
                                   f"{MAX_RUNS_PER_GPU})")
    detach: bool = _option(False, "run mode on SLURM: return once every run is submitted; follow with "
                                  "python -m launcher.status SWEEP_DIR --watch (default false)")
    resume: Any = _option("auto", "run mode: a run that starts again (requeued, or re-run after an interruption) "
                                  "continues from its last checkpoint with --resume: auto (if the train script "
                                  "takes --resume), true or false (default auto)")
    max_requeues: int = _option(DEFAULT_MAX_REQUEUES, "run mode on SLURM: times a run is requeued to resume when "
                                                      f"SLURM's time limit stops it (default {DEFAULT_MAX_REQUEUES})")
    # Set by the sweeper for each local run-mode job: the worker it is (it trains runs until none is left).
    worker: Optional[int] = _option(None, "", internal=True)


def option_fields() -> List[Any]:
    """The fields a user sets, in the order --help lists them."""
    return [f for f in fields(LaunchConf) if not f.metadata.get("internal")]


def launch_help() -> str:
    """The ``== launch options ==`` lines of ``--help``: each field's name and help, wrapped."""
    width = max(len(f.name) for f in option_fields()) + 2
    return "\n".join(textwrap.fill(f.metadata["help"], 104, initial_indent=f"  {f.name:<{width}}",
                                   subsequent_indent=" " * (width + 2)) for f in option_fields())


@dataclass(frozen=True)
class LaunchOptions:
    """The ``launch`` section of the app config, checked; paths absolute. Built by
    :meth:`from_mapping` only: an unset field's default is LaunchConf's."""

    mode: str
    config_dir: Path
    script_file: Path
    train_script: str  # as given: a path, or "robomimic"
    python: Optional[str]
    extra_args: Tuple[str, ...]
    # None: the sweep file's, else the robomimic generator's default; False: not written; a name.
    wandb_proj_name: Any
    overwrite: bool
    rerun: bool
    report: bool
    timeout_min: Optional[float]
    gpus: Any  # None, "auto" or a tuple of device ids
    runs_per_gpu: int
    robomimic: str  # launch.robomimic as given; launcher.robomimic.versions resolves it
    detach: bool
    resume: Any  # "auto", True or False
    max_requeues: int

    @staticmethod
    def from_mapping(launch: Dict[str, Any], cwd: Path) -> "LaunchOptions":
        values = {f.name: READERS[f.name](launch.get(f.name, f.default), f.name, cwd) for f in option_fields()}
        if values["mode"] == "script" and values["gpus"] is not None:
            raise SweepError("launch.gpus assigns GPUs to run mode's trainings (launch.mode=run); run.sh trains "
                             "one run after another on the GPUs it is given: CUDA_VISIBLE_DEVICES=0 bash run.sh")
        return LaunchOptions(**values)

    def train_command(self, cwd: Path, run_mode: bool, robomimic: Optional[Robomimic] = None) -> TrainCommand:
        """The command every run of this sweep trains with, by the robomimic it is checked against."""
        return train_command(self.train_script, self.python, self.extra_args, cwd, run_mode, robomimic)


Reader = Callable[[Any, str, Path], Any]


def _mode(value: Any, name: str, cwd: Path) -> str:
    if value not in MODES:
        raise SweepError(f"launch.{name} must be one of {', '.join(MODES)}; got {value!r}")
    return value


def _path(value: Any, name: str, cwd: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise SweepError(f"launch.{name} must be a path, got {value!r}")
    # Absolute, so the script runs from any folder, as robomimic's does.
    return Path(os.path.abspath(cwd / os.path.expanduser(value)))


def _text(value: Any, name: str, cwd: Path) -> str:
    if not isinstance(value, str) or not value:
        raise SweepError(f"launch.{name} must be a non-empty string, got {value!r}")
    return value


def _optional_text(value: Any, name: str, cwd: Path) -> Optional[str]:
    return None if value is None else _text(value, name, cwd)


def _wandb_proj_name(value: Any, name: str, cwd: Path) -> Any:
    if value is None or value is False or isinstance(value, str):
        return value
    raise SweepError(
        f"launch.{name} must be a project name (quote one that looks like a number), "
        f"null for the sweep file's (else debug), or false to leave the base's value; got {value!r}"
    )


def _robomimic(value: Any, name: str, cwd: Path) -> str:
    from launcher.robomimic.selection import check_choice

    return check_choice(value, f"launch.{name}")


def _flag(value: Any, name: str, cwd: Path) -> bool:
    if not isinstance(value, bool):
        raise SweepError(f"launch.{name} must be true or false, got {value!r}")
    return value


def _extra_args(value: Any, name: str, cwd: Path) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as e:
            raise SweepError(f"launch.{name}: cannot split {value!r} into shell words: {e}") from None
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                for v in value):
        return tuple(str(v) for v in value)
    raise SweepError(f"launch.{name} must be a string of shell words or a list of strings, got {value!r}")


def _timeout(value: Any, name: str, cwd: Path) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SweepError(f"launch.{name} must be a positive number of minutes, got {value!r}")
    return float(value)


def _gpus(value: Any, name: str, cwd: Path) -> Any:
    if value is None or value == "auto":
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                for v in value):
        if not value:
            raise SweepError(f"launch.{name}=[] names no device; drop launch.{name} (null) to assign no GPUs, "
                             "or give ids ([0,1]) or auto")
        if len(set(value)) != len(value):
            raise SweepError(f"launch.{name} lists a device twice: {list(value)}")
        return tuple(value)
    raise SweepError(f"launch.{name} must be a list of device ids (e.g. [0,1]), auto, or null; got {value!r}")


def _runs_per_gpu(value: Any, name: str, cwd: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RUNS_PER_GPU:
        # A run takes its slot by trying each of them: an unbounded count would open that many files per run.
        raise SweepError(f"launch.{name} must be an int from 1 to {MAX_RUNS_PER_GPU}, got {value!r}")
    return value


def _resume(value: Any, name: str, cwd: Path) -> Any:
    if value not in RESUME_CHOICES or isinstance(value, (int, float)) and not isinstance(value, bool):
        raise SweepError(f"launch.{name} must be auto, true or false; got {value!r}")
    return value


def _count(value: Any, name: str, cwd: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SweepError(f"launch.{name} must be a whole number, 0 or more; got {value!r}")
    return value


# How each launch field is read; tests/test_launch_options.py checks it covers LaunchConf.
READERS: Dict[str, Reader] = {
    "mode": _mode,
    "config_dir": _path,
    "script_file": _path,
    "train_script": _text,
    "python": _optional_text,
    "robomimic": _robomimic,
    "extra_args": _extra_args,
    "wandb_proj_name": _wandb_proj_name,
    "overwrite": _flag,
    "rerun": _flag,
    "report": _flag,
    "timeout_min": _timeout,
    "gpus": _gpus,
    "runs_per_gpu": _runs_per_gpu,
    "detach": _flag,
    "resume": _resume,
    "max_requeues": _count,
}


def register_launch_schema() -> None:
    """Give Hydra the ``robomimic_launch`` config (conf/config.yaml's defaults list it, and
    run-mode jobs compose only it) and ``${launch_help:}`` for --help. Idempotent."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    ConfigStore.instance().store(name="robomimic_launch", node={"launch": LaunchConf}, provider="launcher")
    OmegaConf.register_new_resolver("launch_help", launch_help, replace=True)
