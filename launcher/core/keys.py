"""robomimic config keys and the one walker of key paths.

``train/data`` and ``train.data`` name the same value. Every read or write of a
value at a key path in a plain robomimic document goes through :func:`get_value`
or :func:`set_value`.
"""
import re
from typing import Any, Dict, List

from launcher.core.errors import SweepError

_KEY_SEPARATOR = re.compile(r"[/.]")


def split_key(key: str) -> List[str]:
    return _KEY_SEPARATOR.split(key)


def normalize_key(key: str) -> str:
    """One spelling per key, with dots."""
    return ".".join(split_key(key))


def get_value(config: Dict[str, Any], key: str, default: Any = None) -> Any:
    """The value at ``key``, or ``default`` where the path does not exist."""
    node: Any = config
    for part in split_key(key):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


_MISSING = object()


def has_key(config: Dict[str, Any], key: str) -> bool:
    """Whether the path ``key`` exists in ``config`` (its value may be null)."""
    return get_value(config, key, _MISSING) is not _MISSING


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


def delete_value(config: Dict[str, Any], key: str) -> bool:
    """Remove the value at ``key``; whether it was there."""
    *parents, last = split_key(key)
    node = get_value(config, ".".join(parents)) if parents else config
    if not isinstance(node, dict) or last not in node:
        return False
    del node[last]
    return True
