"""Reading the composed app config and the command line into plain values.

The only module besides the overrides and the Hydra plugin that knows OmegaConf:
everything after it (the plan, the checks, the files, run mode) takes plain dicts
and lists, so it can be tested in milliseconds without composing a config. An
interpolation that does not resolve becomes a :class:`SweepError` naming its key.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from launcher.core.errors import SweepError
from launcher.core.params import Param
from launcher.request.launch_options import LaunchOptions
from launcher.request.overrides import FixedOverride, fixed_override, param_from_override
from launcher.robomimic.selection import for_sweep
from launcher.robomimic.versions import Robomimic

# Top-level keys of the app config that are not robomimic's.
OWN_KEYS = ("base_config", "launch", "sweep", "hydra")


@dataclass(frozen=True)
class SweepRequest:
    """What the user asked for, as plain values: the input of :func:`launcher.request.planning.make_plan`."""

    composed: Dict[str, Any]  # the composed robomimic config (algo=..., obs=..., overrides)
    base_config: Optional[str]  # base_config=PATH, as typed
    sweep_file: Optional[Dict[str, Any]]  # the `sweep` section (sweep=NAME), or None
    cli_params: List[Param]  # swept command-line overrides, in command-line order
    fixed: List[FixedOverride]  # plain robomimic overrides, in command-line order
    options: LaunchOptions
    cwd: Path  # where the sweep was started; relative paths count from here
    robomimic: Robomimic  # the robomimic that trains: every check and generator rule is its


def plain(config: Any, where: str) -> Any:
    """``config`` resolved to plain containers; a broken interpolation names its key."""
    try:
        return OmegaConf.to_container(config, resolve=True)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or where
        raise SweepError(f"{key}: {_first_line(e)}") from None


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def robomimic_section(config: DictConfig) -> Dict[str, Any]:
    """The robomimic config inside the composed app config, in robomimic's key order."""
    own = set(OWN_KEYS)
    section = OmegaConf.masked_copy(config, [k for k in config.keys() if k not in own])
    return plain(section, "the composed config")


def read_request(config: DictConfig, overrides: Sequence[Any], groups: Set[str], cwd: Path) -> SweepRequest:
    """The sweep the composed config and the command line describe."""
    composed = robomimic_section(config)
    swept = [o for o in overrides if o.is_sweep_override()]
    for override in swept:
        key = override.key_or_group
        if key in groups or key.split(".")[0] in OWN_KEYS:
            raise SweepError(
                f"'{override.input_line}': only robomimic config values can be swept, "
                f"not '{key}'; run one sweep per choice instead"
            )
    fixed = [
        fixed_override(o) for o in overrides
        if not o.is_sweep_override() and o.key_or_group not in groups
        and o.key_or_group.split(".")[0] in composed
    ]
    sweep = config.get("sweep")
    base_config = config.get("base_config")
    options = LaunchOptions.from_mapping(plain(config.launch, "launch"), cwd)
    return SweepRequest(
        composed=composed,
        base_config=None if base_config is None else str(base_config),
        sweep_file=None if sweep is None else plain(sweep, "sweep"),
        cli_params=[param_from_override(o) for o in swept],
        fixed=fixed,
        options=options,
        cwd=cwd,
        robomimic=for_sweep(options.robomimic, options.python),
    )
