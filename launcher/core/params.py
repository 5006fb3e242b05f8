"""Grouped sweeps with the semantics of robomimic 0.3.0's ``ConfigGenerator``.

Pure functions only: no Hydra, no files. A sweep is an ordered list of
:class:`Param`. Params sharing a group are zipped; groups are crossed in the
order of their first appearance, the first group varying slowest.
"""
import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, Iterator, List, Mapping, Optional, Sequence, Tuple

from launcher.core.errors import SweepError
from launcher.core.keys import normalize_key

# One run of a sweep: for each param (in sweep order), the index of its value.
Choice = Tuple[int, ...]


@dataclass(frozen=True)
class Param:
    """One ``ConfigGenerator.add_param`` call."""

    key: str
    name: str
    group: Hashable
    values: Sequence[Any]
    value_names: Optional[Sequence[Any]] = None
    # Where the param was given, for error messages ("sweep.params[3]", an override).
    origin: str = field(default="", compare=False)

    def value_name(self, index: int) -> Any:
        """What robomimic records for value ``index`` in names and ``meta.hp_values``."""
        if self.value_names is not None:
            return self.value_names[index]
        return self.values[index]


def add_param(params: List[Param], param: Param) -> None:
    """Add ``param`` the way ``add_param`` does: re-adding a key replaces it in place."""
    for i, existing in enumerate(params):
        if normalize_key(existing.key) == normalize_key(param.key):
            params[i] = param
            return
    params.append(param)


def group_sizes(params: Sequence[Param]) -> Dict[Hashable, int]:
    """Each group's number of values, groups in order of first appearance.

    Raises :class:`SweepError` naming every param of a group whose value counts differ.
    """
    sizes: Dict[Hashable, int] = {}
    members: Dict[Hashable, List[Param]] = {}
    for param in params:
        sizes.setdefault(param.group, len(param.values))
        members.setdefault(param.group, []).append(param)
    for group, group_params in members.items():
        counts = {len(p.values) for p in group_params}
        if len(counts) > 1:
            listing = ", ".join(f"{p.key} has {len(p.values)}" for p in group_params)
            raise SweepError(
                f"group {group!r} zips params with different numbers of values: {listing}"
            )
    return sizes


def expand_groups(params: Sequence[Param]) -> Iterator[Choice]:
    """Yield each run's value indices, in robomimic's order, without materialising the sweep."""
    sizes = group_sizes(params)
    position = {group: i for i, group in enumerate(sizes)}
    param_positions = [position[p.group] for p in params]
    for combination in itertools.product(*(range(n) for n in sizes.values())):
        yield tuple(combination[pos] for pos in param_positions)


def value_string(value: Any) -> str:
    """robomimic's spelling of a value in a run name: ``str``, lists joined by ``_``."""
    if isinstance(value, (list, tuple)):
        return "_".join(str(x) for x in value)
    return str(value)


def name_fragments(params: Sequence[Param]) -> List[List[str]]:
    """What each value of each param adds to a run name, as ``ConfigGenerator._name_for_experiment``
    builds it: ``_<name>_<value string>``, just ``_<name>`` for an empty value string, and
    nothing for a param with an empty name."""
    fragments: List[List[str]] = []
    for param in params:
        if len(param.name) == 0:
            fragments.append([""] * len(param.values))
            continue
        row = []
        for index, value in enumerate(param.values):
            shown = str(param.value_names[index]) if param.value_names is not None else value_string(value)
            row.append(f"_{param.name}_{shown}" if len(shown) > 0 else f"_{param.name}")
        fragments.append(row)
    return fragments


def join_name(base_name: str, fragments: List[List[str]], choice: Choice) -> str:
    return base_name + "".join(row[index] for row, index in zip(fragments, choice))


def run_name(base_name: str, params: Sequence[Param], choice: Choice) -> str:
    """``<base>_<name>_<value>...`` exactly as ``ConfigGenerator._name_for_experiment``."""
    return join_name(base_name, name_fragments(params), choice)


def hp_meta(params: Sequence[Param], choice: Choice) -> Tuple[List[str], List[Any]]:
    """``meta.hp_keys`` and ``meta.hp_values``: the named params, value name or raw value."""
    keys: List[str] = []
    values: List[Any] = []
    for param, index in zip(params, choice):
        if param.name is not None and len(param.name) > 0:
            keys.append(param.name)
            values.append(param.value_name(index))
    return keys, values


def param_from_entry(entry: Mapping[str, Any], where: str) -> Param:
    """Build a :class:`Param` from a sweep file entry, with errors that say which entry."""
    if not isinstance(entry, Mapping):
        raise SweepError(f"{where}: expected a mapping with key, name, group, values; got {entry!r}")
    allowed = {"key", "name", "group", "values", "value_names"}
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise SweepError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    missing = [f for f in ("key", "group", "values") if f not in entry]
    if missing:
        raise SweepError(f"{where}: missing field(s) {missing}")
    key = entry["key"]
    if not isinstance(key, str) or not key:
        raise SweepError(f"{where}: 'key' must be a non-empty string, got {key!r}")
    name = entry.get("name", "")
    name = "" if name is None else name
    if not isinstance(name, str):
        raise SweepError(f"{where} ({key}): 'name' must be a string, got {name!r}")
    values = entry["values"]
    if not isinstance(values, list):
        raise SweepError(f"{where} ({key}): 'values' must be a list, got {values!r}")
    if len(values) == 0:
        raise SweepError(f"{where} ({key}): 'values' is empty")
    value_names = entry.get("value_names")
    if value_names is not None:
        if not isinstance(value_names, list):
            raise SweepError(f"{where} ({key}): 'value_names' must be a list, got {value_names!r}")
        if len(value_names) != len(values):
            raise SweepError(
                f"{where} ({key}): {len(value_names)} value_names for {len(values)} values"
            )
    group = entry["group"]
    if not isinstance(group, Hashable) or group is None:
        raise SweepError(f"{where} ({key}): 'group' must be an int or a string, got {group!r}")
    return Param(key=key, name=name, group=group, values=values, value_names=value_names, origin=where)
