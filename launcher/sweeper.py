"""The Hydra sweeper plugin: grouped sweeps with robomimic's ConfigGenerator semantics.

Hydra glue only. The sweep logic lives in :mod:`launcher.sweep`, the config
building in :mod:`launcher.robomimic_config`, files in :mod:`launcher.emit`.
"""
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from launcher.app_config import OWN_KEYS, load_base_json, robomimic_section
from launcher.emit import emit_script
from launcher.errors import SweepError
from launcher.overrides import apply_override, param_from_override, split_sweeps
from launcher.plan import LaunchOptions, SweepPlan
from launcher.keys import normalize_key
from launcher.robomimic_config import base_run_name
from launcher.sweep import Param, add_param, param_from_entry
from launcher.validate import validate_runs

log = logging.getLogger(__name__)


@dataclass
class RobomimicSweeperConf:
    _target_: str = "hydra_plugins.robomimic_sweeper.RobomimicSweeper"
    # In run mode, launch at most this many jobs at once (None: the whole sweep).
    max_batch_size: Optional[int] = None


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="robomimic",
    node=RobomimicSweeperConf,
    provider="robomimic-hydra-sweeper",
)


class RobomimicSweeper(Sweeper):
    """Zips params within a group, crosses groups, names runs as robomimic does."""

    def __init__(self, max_batch_size: Optional[int] = None) -> None:
        super().__init__()
        self.max_batch_size = max_batch_size
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher: Optional[Launcher] = None

    def setup(
        self,
        *,
        hydra_context: HydraContext,
        task_function: TaskFunction,
        config: DictConfig,
    ) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        # Lets launch.* use ${hydra:sweep.dir}, as job configs do.
        HydraConfig.instance().set_config(config)
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: List[str]) -> Any:
        assert self.config is not None and self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(arguments)
        groups = set(self.hydra_context.config_loader.list_groups(""))
        plan = make_plan(self.config, overrides, groups)
        options = LaunchOptions.from_mapping(
            OmegaConf.to_container(self.config.launch, resolve=True),  # type: ignore[arg-type]
            cwd=Path.cwd(),
        )
        count = validate_runs(plan)
        if options.mode == "script":
            emit_script(plan, options)
            print(f"Wrote {count} robomimic configs to {options.config_dir}")
            print(f"Wrote {options.script_file} ({count} runs): bash {options.script_file}")
            return []
        raise SweepError("launch.mode=run is not available yet; use launch.mode=script")


def make_plan(config: DictConfig, overrides: Sequence[Override], groups: Set[str]) -> SweepPlan:
    """The sweep the composed app config and the command line describe."""
    swept, fixed = split_sweeps(overrides)
    for override in swept:
        if override.key_or_group in groups or override.key_or_group.split(".")[0] in OWN_KEYS:
            raise SweepError(
                f"'{override.input_line}': only robomimic config values can be swept, "
                f"not '{override.key_or_group}'; run one sweep per choice instead"
            )

    robomimic = robomimic_section(config)
    base_config_file = config.get("base_config")
    if base_config_file is not None:
        base_config_file = str(base_config_file)
        base = load_base_json(base_config_file)
        for override in fixed:
            if is_robomimic_override(override, robomimic, groups):
                apply_override(base, override)
        source = base_config_file
    else:
        base = robomimic
        source = "the composed config"

    params: List[Param] = []
    seen: Dict[str, str] = {}
    sweep = config.get("sweep")
    entries = OmegaConf.to_container(sweep.params, resolve=True) if sweep is not None else []
    if not isinstance(entries, list):
        raise SweepError(f"sweep.params must be a list of params, got {entries!r}")
    for i, entry in enumerate(entries):
        param = param_from_entry(entry, where=f"sweep.params[{i}]")
        key = normalize_key(param.key)
        if key in seen:
            raise SweepError(
                f"sweep.params[{i}]: key '{param.key}' is already swept by {seen[key]}; "
                "list each key once (robomimic would silently keep only the last)"
            )
        seen[key] = f"sweep.params[{i}]"
        params.append(param)
    for override in swept:
        # A command-line sweep of a key the sweep file has replaces it in place,
        # as re-adding a key does in robomimic.
        add_param(params, param_from_override(override))

    swept_keys = {normalize_key(p.key) for p in params}
    for override in fixed:
        if normalize_key(override.key_or_group) in swept_keys:
            raise SweepError(
                f"'{override.input_line}' fixes '{override.key_or_group}', which the sweep varies; "
                "drop it from the sweep or sweep it on the command line"
            )

    return SweepPlan(
        base=base,
        base_name=base_run_name(base, source),
        params=params,
        base_config_file=base_config_file,
        wandb_proj_name=str(config.launch.wandb_proj_name),
    )


def is_robomimic_override(override: Override, robomimic: Dict[str, Any], groups: Set[str]) -> bool:
    """Whether a fixed override sets a robomimic value (not ours, not a config group choice)."""
    key = override.key_or_group
    return key not in groups and key.split(".")[0] in robomimic
