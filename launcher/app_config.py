"""Reading the app config: which keys are ours, which are robomimic's, and base JSON files."""
import json
from typing import Any, Dict

from omegaconf import DictConfig, OmegaConf

from launcher.errors import SweepError

# Top-level keys of the app config that are not robomimic's.
OWN_KEYS = ("base_config", "launch", "sweep", "hydra")


def robomimic_section(config: DictConfig) -> Dict[str, Any]:
    """The robomimic config inside the composed app config, as a plain dict in robomimic's order."""
    own = set(OWN_KEYS)
    section = OmegaConf.masked_copy(config, [k for k in config.keys() if k not in own])
    return OmegaConf.to_container(section, resolve=True)  # type: ignore[return-value]


def load_base_json(path: str) -> Dict[str, Any]:
    """A user's robomimic JSON, as ``hyperparam_helper.py --config`` reads it."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        raise SweepError(f"base_config: no such file: {path}") from None
    except OSError as e:
        raise SweepError(f"base_config: cannot read {path}: {e.strerror}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise SweepError(
            f"base_config: {path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    if not isinstance(config, dict):
        raise SweepError(f"base_config: {path} must hold a JSON object, not {type(config).__name__}")
    return config
