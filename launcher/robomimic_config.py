"""Building one run's robomimic config as ``ConfigGenerator._generate_jsons`` does.

Pure functions on plain dicts (the JSON document), no Hydra and no files.
"""
import copy
import json
from typing import Any, Dict, Optional, Sequence

from launcher.errors import SweepError
from launcher.keys import split_key
from launcher.sweep import Choice, Param, hp_meta

def set_value(config: Dict[str, Any], key: str, value: Any) -> None:
    """robomimic's ``set_value_for_key``: a new leaf goes last, an existing one keeps its place.

    Unlike robomimic, a missing parent section is created instead of raising
    ``KeyError``: partial base JSONs leave out whole sections that a run may still set.
    """
    node = config
    parts = split_key(key)
    for part in parts[:-1]:
        child = node.get(part)
        if child is None and part not in node:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise SweepError(f"cannot set '{key}': '{part}' holds {child!r}, not a section")
        node = child
    node[parts[-1]] = value


def get_value(config: Dict[str, Any], key: str, default: Any = None) -> Any:
    node: Any = config
    for part in split_key(key):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


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
    wandb_proj_name: str,
) -> Dict[str, Any]:
    """One run's JSON document, key for key what robomimic's ConfigGenerator writes.

    robomimic writes ``experiment.logging.wandb_proj_name`` unconditionally and so
    crashes on a partial base without ``experiment.logging``; we set it only where
    the section exists (robomimic's train.py fills in the default otherwise).
    """
    config = copy.deepcopy(base)
    set_value(config, "experiment.name", name)
    for param, index in zip(params, choice):
        set_value(config, param.key, param.values[index])
    logging = get_value(config, "experiment.logging")
    if isinstance(logging, dict):
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
