"""Building one run's robomimic config as ``ConfigGenerator._generate_jsons`` does.

Pure functions on plain dicts (the JSON document), no Hydra and no files.
"""
import copy
import json
from typing import Any, Dict, Optional, Sequence

from launcher.core.errors import SweepError
from launcher.core.keys import get_value, set_value
from launcher.core.params import Choice, Param, hp_meta


def base_run_name(base: Dict[str, Any], source: str) -> str:
    """The base config's ``experiment.name``, which every run name starts with."""
    name = get_value(base, "experiment.name")
    if not isinstance(name, str):
        raise SweepError(f"{source}: 'experiment.name' must be a string, got {name!r}")
    return name


def build_run_config(
    base: Dict[str, Any],
    params: Sequence[Param],
    choice: Choice,
    name: str,
    base_config_file: Optional[str],
    wandb_proj_name: Optional[str],
) -> Dict[str, Any]:
    """One run's JSON document, key for key what robomimic's ConfigGenerator writes.

    robomimic 0.3.0 writes ``experiment.logging.wandb_proj_name`` unconditionally and
    so crashes on a partial base without ``experiment.logging`` (master too, when it
    is given a name); we set it only where the section exists (robomimic's train.py
    fills in the default otherwise). ``None`` leaves the base's value, as master does
    when no name is given.
    """
    config = copy.deepcopy(base)
    set_value(config, "experiment.name", name)
    for param, index in zip(params, choice):
        set_value(config, param.key, param.values[index])
    logging = get_value(config, "experiment.logging")
    if wandb_proj_name is not None and isinstance(logging, dict):
        logging["wandb_proj_name"] = wandb_proj_name
    meta = config.setdefault("meta", {})
    if not isinstance(meta, dict):
        raise SweepError(f"'meta' must be a section, got {meta!r}")
    hp_keys, hp_values = hp_meta(params, choice)
    meta.update(hp_base_config_file=base_config_file, hp_keys=hp_keys, hp_values=hp_values)
    return config


def config_json(config: Dict[str, Any]) -> str:
    """The file text robomimic's ``save_json`` produces: 4-space indent, key order kept."""
    return json.dumps(config, sort_keys=False, indent=4)
