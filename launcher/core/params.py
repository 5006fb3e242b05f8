"""Grouped sweeps with the semantics of robomimic's ``ConfigGenerator``.

Pure functions only: no Hydra, no files. A sweep is an ordered list of
:class:`Param`. Params sharing a group are zipped; groups are crossed in the
order of their first appearance, the first group varying slowest.

robomimic 0.3.0 is the reference. Its later generators added options that only
change names and order, and those are here too, with their semantics: master's
``hidename`` (out of the run name, still in ``meta``) and ``prepend`` (to the
front), the robocasa branch's ``values_and_names`` pairs, and master's rule of
putting ``_`` only between non-empty parts of a name. ``exclude`` is ours: no
generator can drop combinations from a grid.
"""
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Hashable, Iterator, List, Mapping, Optional, Sequence, Tuple

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
    # master's hidename: not in the run name, still in meta.hp_keys / hp_values.
    hidename: bool = False
    # master's prepend: added at the front of the sweep instead of the end.
    prepend: bool = False
    # Where the param was given, for error messages ("sweep.params[3]", an override).
    origin: str = field(default="", compare=False)

    def value_name(self, index: int) -> Any:
        """What robomimic records for value ``index`` in names and ``meta.hp_values``:
        its value name, or the raw value where there is none (or the name is null)."""
        if self.value_names is not None and self.value_names[index] is not None:
            return self.value_names[index]
        return self.values[index]


def add_param(params: List[Param], param: Param) -> None:
    """Add ``param`` the way ``add_param`` does: re-adding a key replaces it in place,
    and ``prepend`` then moves it to the very front (so the last prepended leads)."""
    key = normalize_key(param.key)
    position = next((i for i, p in enumerate(params) if normalize_key(p.key) == key), len(params))
    params[position:position + 1] = [param]
    if param.prepend:
        params.insert(0, params.pop(position))


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


def count_runs(params: Sequence[Param]) -> int:
    """How many runs the grid has, before any exclusion."""
    return math.prod(group_sizes(params).values())


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
    nothing for a param with an empty name or ``hidename``."""
    fragments: List[List[str]] = []
    for param in params:
        if len(param.name) == 0 or param.hidename:
            fragments.append([""] * len(param.values))
            continue
        row = []
        for index, value in enumerate(param.values):
            named = param.value_names is not None and param.value_names[index] is not None
            shown = str(param.value_names[index]) if named else value_string(value)
            row.append(f"_{param.name}_{shown}" if len(shown) > 0 else f"_{param.name}")
        fragments.append(row)
    return fragments


def join_name(base_name: str, fragments: List[List[str]], choice: Choice, leading_separator: bool = True) -> str:
    """The run name from its fragments. robomimic 0.3.0 always puts ``_`` after the base
    name, even an empty one (``_bs_16``); master puts it only between non-empty parts
    (``bs_16``), which is ``leading_separator=False``."""
    name = base_name + "".join(row[index] for row, index in zip(fragments, choice))
    if not leading_separator and not base_name:
        return name[1:]  # every non-empty fragment starts with "_"
    return name


def run_name(base_name: str, params: Sequence[Param], choice: Choice, leading_separator: bool = True) -> str:
    """``<base>_<name>_<value>...`` exactly as ``ConfigGenerator._name_for_experiment``."""
    return join_name(base_name, name_fragments(params), choice, leading_separator)


def hp_meta(params: Sequence[Param], choice: Choice) -> Tuple[List[str], List[Any]]:
    """``meta.hp_keys`` and ``meta.hp_values``: the named params, value name or raw value."""
    keys: List[str] = []
    values: List[Any] = []
    for param, index in zip(params, choice):
        if param.name is not None and len(param.name) > 0:
            keys.append(param.name)
            values.append(param.value_name(index))
    return keys, values


PARAM_FIELDS = ("key", "name", "group", "values", "value_names", "values_and_names", "hidename", "prepend")


def param_values(values: Any, value_names: Any, values_and_names: Any, where: str) -> Tuple[list, Optional[list]]:
    """``values`` and ``value_names`` of one param, given either way: as two lists, or as
    the robocasa branch's ``values_and_names`` ``[value, name]`` pairs. The lists given
    are returned as they are (robomimic keeps them by reference)."""
    if values_and_names is not None:
        if values is not None or value_names is not None:
            raise SweepError(f"{where}: give values_and_names, or values (with value_names), not both")
        pairs = values_and_names
        if not isinstance(pairs, (list, tuple)) or not all(
                isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in pairs):
            raise SweepError(f"{where}: values_and_names must be a list of [value, name] pairs, got {pairs!r}")
        values, value_names = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    if values is None:
        raise SweepError(f"{where}: missing field(s) ['values']")
    if not isinstance(values, list):
        raise SweepError(f"{where}: 'values' must be a list, got {values!r}")
    if len(values) == 0:
        raise SweepError(f"{where}: 'values' is empty")
    if value_names is not None:
        if not isinstance(value_names, list):
            raise SweepError(f"{where}: 'value_names' must be a list, got {value_names!r}")
        if len(value_names) != len(values):
            raise SweepError(f"{where}: {len(value_names)} value_names for {len(values)} values")
    return values, value_names


def param_from_entry(entry: Mapping[str, Any], where: str) -> Param:
    """Build a :class:`Param` from a sweep file entry, with errors that say which entry."""
    if not isinstance(entry, Mapping):
        raise SweepError(f"{where}: expected a mapping with key, name, group, values; got {entry!r}")
    unknown = sorted(set(entry) - set(PARAM_FIELDS))
    if unknown:
        raise SweepError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(PARAM_FIELDS)}")
    missing = [f for f in ("key", "group") if f not in entry]
    if missing:
        raise SweepError(f"{where}: missing field(s) {missing}")
    key = entry["key"]
    if not isinstance(key, str) or not key:
        raise SweepError(f"{where}: 'key' must be a non-empty string, got {key!r}")
    name = entry.get("name", "")
    name = "" if name is None else name
    if not isinstance(name, str):
        raise SweepError(f"{where} ({key}): 'name' must be a string, got {name!r}")
    values, value_names = param_values(
        entry.get("values"), entry.get("value_names"), entry.get("values_and_names"), f"{where} ({key})"
    )
    group = entry["group"]
    if not isinstance(group, Hashable) or group is None:
        raise SweepError(f"{where} ({key}): 'group' must be an int or a string, got {group!r}")
    flags = {}
    for flag in ("hidename", "prepend"):
        flags[flag] = entry.get(flag, False)
        if not isinstance(flags[flag], bool):
            raise SweepError(f"{where} ({key}): '{flag}' must be true or false, got {flags[flag]!r}")
    return Param(key=key, name=name, group=group, values=values, value_names=value_names, origin=where, **flags)


def json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON values: ``1`` equals ``1.0`` but not ``true`` or ``"1"``; key order
    does not matter. How ``exclude`` compares a value with a run's."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(json_equal(a[k], b[k]) for k in a)
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    return False


def show_value(value: Any) -> str:
    """A value as the user wrote it in YAML/JSON (``true``, ``0.001``, ``[1, 2]``)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(frozen=True)
class Exclusion:
    """One ``exclude`` entry, resolved: for each of its params (by position), the
    indices of the values it matches. A run is dropped when it matches them all."""

    matches: Tuple[Tuple[int, FrozenSet[int]], ...]
    origin: str

    def drops(self, choice: Choice) -> bool:
        return all(choice[position] in indices for position, indices in self.matches)


def exclusion_from_entry(entry: Any, params: Sequence[Param], where: str) -> Exclusion:
    """An ``exclude`` entry (``{key: value, ...}``, keys as in params) resolved against
    the sweep's params; a key the sweep does not vary, or a value it never takes, is
    an error (it would silently drop nothing)."""
    if not isinstance(entry, Mapping) or not entry:
        raise SweepError(
            f"{where}: expected a mapping of swept keys to values, e.g. "
            f"{{algo.gmm.enabled: false, train.seed: 2}}; got {entry!r}"
        )
    positions = {normalize_key(p.key): i for i, p in enumerate(params)}
    matches = []
    for key, value in entry.items():
        position = positions.get(normalize_key(key)) if isinstance(key, str) else None
        if position is None:
            swept = ", ".join(p.key for p in params)
            raise SweepError(f"{where}: {key!r} is not a key this sweep varies (it varies: {swept})")
        param = params[position]
        indices = frozenset(i for i, v in enumerate(param.values) if json_equal(v, value))
        if not indices:
            shown = ", ".join(show_value(v) for v in param.values)
            raise SweepError(
                f"{where}: {key} never takes the value {show_value(value)} (its values: {shown}); "
                "exclude compares values as JSON, so 1 is not true and \"1\" is not 1"
            )
        matches.append((position, indices))
    return Exclusion(matches=tuple(matches), origin=where)
