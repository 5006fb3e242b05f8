"""A whole sweep, ready to expand: base config, params and where its files go.

Pure: built from plain values, so it can be tested without Hydra.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from launcher.errors import SweepError
from launcher.robomimic_config import build_run_config
from launcher.sweep import Choice, Param, expand_groups, join_name, name_fragments

LAUNCH_MODES = ("script", "run")


@dataclass(frozen=True)
class LaunchOptions:
    """The ``launch`` section of the app config."""

    mode: str
    config_dir: Path
    script_file: Path
    train_script: str
    wandb_proj_name: str
    overwrite: bool = False
    rerun: bool = False

    @staticmethod
    def from_mapping(launch: Dict[str, Any], cwd: Path) -> "LaunchOptions":
        mode = launch.get("mode")
        if mode not in LAUNCH_MODES:
            raise SweepError(f"launch.mode must be one of {list(LAUNCH_MODES)}, got {mode!r}")
        paths = {}
        for field in ("config_dir", "script_file"):
            value = launch.get(field)
            if not isinstance(value, str) or not value:
                raise SweepError(f"launch.{field} must be a path, got {value!r}")
            # Absolute, so the script runs from any folder, as robomimic's does.
            paths[field] = Path(os.path.abspath(cwd / os.path.expanduser(value)))
        train_script = launch.get("train_script")
        if not isinstance(train_script, str) or not train_script:
            raise SweepError(f"launch.train_script must be a path, got {train_script!r}")
        wandb_proj_name = launch.get("wandb_proj_name")
        if not isinstance(wandb_proj_name, str):
            raise SweepError(f"launch.wandb_proj_name must be a string, got {wandb_proj_name!r}")
        flags = {}
        for flag in ("overwrite", "rerun"):
            flags[flag] = launch.get(flag, False)
            if not isinstance(flags[flag], bool):
                raise SweepError(f"launch.{flag} must be true or false, got {flags[flag]!r}")
        return LaunchOptions(
            **flags,
            mode=mode,
            config_dir=paths["config_dir"],
            script_file=paths["script_file"],
            train_script=train_script,
            wandb_proj_name=wandb_proj_name,
        )


@dataclass(frozen=True)
class SweepPlan:
    """Everything needed to produce any run's name and JSON document."""

    base: Dict[str, Any]
    base_name: str
    params: Sequence[Param]
    base_config_file: Optional[str]
    wandb_proj_name: str

    def runs(self) -> Iterator[Tuple[str, Choice]]:
        """(run name, value indices) for every run, in robomimic's order."""
        fragments = name_fragments(self.params)
        for choice in expand_groups(self.params):
            yield join_name(self.base_name, fragments, choice), choice

    def run_config(self, name: str, choice: Choice) -> Dict[str, Any]:
        return build_run_config(
            self.base,
            self.params,
            choice,
            name,
            self.base_config_file,
            self.wandb_proj_name,
        )

    def assignments(self, choice: Choice) -> List[Tuple[str, Any]]:
        """(key, value) of each param for one run, in sweep order."""
        return [(p.key, p.values[i]) for p, i in zip(self.params, choice)]
