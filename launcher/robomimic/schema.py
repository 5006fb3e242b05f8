"""One robomimic algorithm's config schema: which keys it has, and what values they take.

robomimic's ``train.py`` loads a JSON with ``config_factory(algo_name).update(json)``
under key lock: a key the algorithm's config lacks is an error, except inside the
sub-configs robomimic leaves open (``observation.modalities.obs``,
``observation.encoder``, the ``*_kwargs`` dicts, ...) and inside plain dicts
(``train.action_config`` in 0.5+, which ``Config.update`` merges with ``dict.update``).
We check the same rule, the value types, and what the robomimic's train.py does
with ``train.data``, before anything is written or launched.

A :class:`Schema` comes from a :class:`launcher.robomimic.versions.Robomimic`, which
knows where its data was recorded and names itself in every message.
"""
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Optional, Tuple

from launcher.core.errors import SweepError
from launcher.core.keys import normalize_key, split_key

DATA_KEY = "train.data"


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
    plain_dicts: FrozenSet[str] = frozenset()
    owner: str = "robomimic"  # the robomimic, as messages name it ("robomimic 0.5.0")
    # How its train.py reads train.data: "path", "list" or "path_or_list" (versions.Profile.data).
    data_form: str = "path"
    # For a key this robomimic lacks: which other robomimics have it ("; ... has it: launch.robomimic=...").
    elsewhere: Callable[[str], str] = field(default=lambda key: "", compare=False, repr=False)

    @property
    def config_name(self) -> str:
        return f"{self.owner}'s {self.algo} config"

    def check(self, key: str, value: Any, source: str) -> None:
        """Raise :class:`SweepError` unless robomimic would accept ``value`` at ``key``."""
        found = self._default_at(key, source)
        if normalize_key(key) == DATA_KEY:
            self.check_data(value, source)
            return
        if found is None:
            return  # a new key inside an open sub-config or a plain dict: robomimic takes anything
        default = found[0]
        if isinstance(default, dict) and isinstance(value, dict):
            # robomimic merges a section into the existing one, key by key.
            for sub_key, sub_value in value.items():
                self.check(f"{key}.{sub_key}", sub_value, source)
            return
        if not fits(default, value):
            raise SweepError(
                f"{source}: '{key}' must be {_type_name(default)} "
                f"({self.owner}'s {self.algo} default is {json.dumps(default)}), "
                f"got {value!r} ({_type_name(value)})"
            )

    def check_key(self, key: str, source: str) -> None:
        """Raise :class:`SweepError` unless robomimic's config has (or is open to) ``key``."""
        self._default_at(key, source)

    def check_config(self, config: Dict[str, Any], source: str) -> None:
        """Check a whole (possibly partial) robomimic config document."""
        for key, value in config.items():
            self.check(key, value, source)

    # -- train.data ---------------------------------------------------------------------

    def check_data(self, value: Any, source: str) -> None:
        """``train.data`` as this robomimic's train.py reads it: one path (0.3.0), a list of
        dataset dicts (the robocasa branch), or either (0.5, master, dexmimicgen). Null is
        "not set yet"; run mode requires a dataset (launcher/robomimic/paths.py)."""
        if value is None:
            return
        if isinstance(value, str):
            if self.data_form == "list":
                raise SweepError(
                    f"{source}: train.data is a string, but {self.owner}'s train.py reads a list of datasets "
                    f"and crashes on a string (\"string indices must be integers\"); write "
                    f"train.data=[{{path: {value}}}]")
            return
        if not isinstance(value, (list, tuple)):
            raise SweepError(f"{source}: train.data must be a dataset path or a list of datasets "
                             f"({{path: ..., ...}}), got {value!r}")
        if self.data_form == "path":
            raise SweepError(
                f"{source}: train.data is a list, but {self.owner}'s train.py reads one dataset path and "
                "crashes on a list (\"expected str, bytes or os.PathLike object, not list\"); give one path, "
                "or train with a robomimic that takes several datasets (launch.robomimic=0.5.0 or later)")
        if not value:
            raise SweepError(f"{source}: train.data is an empty list; list at least one dataset {{path: ...}}")
        for i, entry in enumerate(value):
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise SweepError(
                    f"{source}: train.data[{i}] must be a dataset with a 'path' string, e.g. "
                    f"{{path: data.hdf5, weight: 1.0}}, got {entry!r} ({self.owner}'s train.py reads "
                    "each dataset's 'path')")

    def check_datasets_cache(self, data: Any, cache_mode: Any, where: str) -> None:
        """Several datasets go through robomimic's MetaDataset, which asserts
        ``hdf5_cache_mode != "all"`` (with no message) before the first epoch."""
        if isinstance(data, (list, tuple)) and len(data) > 1 and cache_mode == "all":
            raise SweepError(
                f"{where}: train.data lists {len(data)} datasets with train.hdf5_cache_mode=all, which "
                f"{self.owner}'s train.py refuses (its MetaDataset asserts against caching all of several "
                "datasets); set train.hdf5_cache_mode=low_dim")

    # -- keys -----------------------------------------------------------------------------

    def _default_at(self, key: str, source: str) -> Optional[Tuple[Any]]:
        """``(default,)`` at ``key``, or None when ``key`` is new inside an open sub-config
        or anywhere inside a plain dict."""
        node: Any = self.defaults
        path: List[str] = []
        for part in split_key(key):
            if path and ".".join(path) in self.plain_dicts:
                return None  # robomimic replaces or adds its entries whole: any key, any value
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
        message = f"{source}: '{key}' is not a key of {self.config_name}"
        hint = self.elsewhere(key)
        if hint:
            return message + hint
        import difflib  # only for a message: it costs every sweep and training 3 ms to import

        spelled = normalize_key(key)
        close = difflib.get_close_matches(spelled, list(leaf_keys(self.defaults)), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean '{close[0]}'?"
        return message
