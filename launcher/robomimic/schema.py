"""robomimic's config schema: which keys an algorithm's config has, and their types.

robomimic's ``train.py`` loads a JSON with ``config_factory(algo_name).update(json)``
under key lock: a key the algorithm's config lacks is an error, except inside the
sub-configs robomimic leaves open (``observation.modalities.obs``,
``observation.encoder``, the ``*_kwargs`` dicts, ...). We check the same rule, and
the value types, before anything is written or launched.

The defaults and open paths come from ``launcher/robomimic/schemas/0.3.0.json``, written
by ``python -m tools.refresh_conf`` from robomimic itself.
"""
import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Tuple

from launcher.core.errors import SweepError
from launcher.core.keys import split_key

SCHEMA_FILE = Path(__file__).parent / "schemas" / "0.3.0.json"


@lru_cache(maxsize=None)
def _schemas() -> Dict[str, Dict[str, Any]]:
    with open(SCHEMA_FILE) as f:
        return json.load(f)


def algorithms() -> List[str]:
    return list(_schemas())


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int):
        return "an int"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a section"
    return type(value).__name__


def fits(default: Any, value: Any) -> bool:
    """Whether ``value`` may replace ``default``: same type; a float also takes an int;
    a null default takes anything."""
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, (list, tuple))
    if isinstance(default, dict):
        return isinstance(value, dict)
    return True


def leaf_keys(config: Dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in config.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from leaf_keys(value, path + ".")


@dataclass(frozen=True)
class Schema:
    algo: str
    defaults: Dict[str, Any]
    open_paths: FrozenSet[str]

    @staticmethod
    def for_algo(algo: Any, source: str) -> "Schema":
        schemas = _schemas()
        if algo not in schemas:
            raise SweepError(
                f"{source}: algo_name {algo!r} is not a robomimic 0.3.0 algorithm; "
                f"choose one of {', '.join(schemas)}"
            )
        entry = schemas[algo]
        return Schema(algo=algo, defaults=entry["defaults"], open_paths=frozenset(entry["open"]))

    def check(self, key: str, value: Any, source: str) -> None:
        """Raise :class:`SweepError` unless robomimic would accept ``value`` at ``key``."""
        found = self._default_at(key, source)
        if found is None:
            return  # a new key inside an open sub-config: robomimic takes anything
        default = found[0]
        if isinstance(default, dict) and isinstance(value, dict):
            # robomimic merges a section into the existing one, key by key.
            for sub_key, sub_value in value.items():
                self.check(f"{key}.{sub_key}", sub_value, source)
            return
        if not fits(default, value):
            raise SweepError(
                f"{source}: '{key}' must be {_type_name(default)} "
                f"(robomimic's {self.algo} default is {json.dumps(default)}), "
                f"got {value!r} ({_type_name(value)})"
            )

    def check_key(self, key: str, source: str) -> None:
        """Raise :class:`SweepError` unless robomimic's config has (or is open to) ``key``."""
        self._default_at(key, source)

    def check_config(self, config: Dict[str, Any], source: str) -> None:
        """Check a whole (possibly partial) robomimic config document."""
        for key, value in config.items():
            self.check(key, value, source)

    def _default_at(self, key: str, source: str) -> Optional[Tuple[Any]]:
        """``(default,)`` at ``key``, or None when ``key`` is new inside an open sub-config."""
        node: Any = self.defaults
        path: List[str] = []
        for part in split_key(key):
            if not isinstance(node, dict):
                raise SweepError(
                    f"{source}: '{key}' goes inside '{'.'.join(path)}', which is a value, not a section"
                )
            if part not in node:
                if ".".join(path) in self.open_paths:
                    return None
                raise SweepError(self._unknown_key_message(key, source))
            node = node[part]
            path.append(part)
        return (node,)

    def _unknown_key_message(self, key: str, source: str) -> str:
        message = f"{source}: '{key}' is not a key of robomimic's {self.algo} config"
        spelled = ".".join(split_key(key))
        close = difflib.get_close_matches(spelled, list(leaf_keys(self.defaults)), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean '{close[0]}'?"
        return message
