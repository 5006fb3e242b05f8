"""Grouped sweeps on the command line, inside Hydra's override grammar.

Hydra 1.3 rejects unknown functions such as ``zip(...)`` before a sweeper sees
them, but ``tag(...)`` parses and attaches free-form string tags to any sweep.
We read these tags::

    algo.rnn.hidden_dim=tag(group:3,name:rnnd,choice(400,1000))
    algo.actor_layer_dims=tag(group:3,name:mlp,value_names:1024|0,choice([1024,1024],[]))

* ``group:G``: params with the same group are zipped (``G`` may be an int or a word,
  and joins a group of the same id from the sweep file);
* ``name:N``: the short name in the run name; ``name:`` (empty) leaves it out;
* ``value_names:a|b``: the strings shown in the run name instead of the values;
* ``hidename``: robomimic master's ``hidename=True``: not in the run name, still in
  ``meta.hp_keys``/``hp_values``;
* ``prepend``: master's ``prepend=True``: the param moves to the front of the sweep
  (first in the run name, its group varying slowest).

Hydra's grammar takes a bare word as a tag, so the two flags are written without
a value: ``train.seed=tag(name:seed,hidename,choice(1,2))``.

An untagged sweep (``train.seed=1,2,3``) is its own group, named after the last
part of its key (``seed``).
"""
import re
from dataclasses import dataclass
from typing import Any, Dict, Hashable, Set, Tuple

from hydra.core.override_parser.types import Override, OverrideType, QuotedString

from launcher.core.errors import SweepError
from launcher.core.keys import split_key
from launcher.core.params import Param

TAG_FIELDS = ("group", "name", "value_names")
TAG_FLAGS = ("hidename", "prepend")
VALUE_NAME_SEPARATOR = "|"


def _group_id(text: str) -> Hashable:
    """``group:3`` joins the sweep file's int group 3; other ids stay strings."""
    try:
        return int(text)
    except ValueError:
        return text


def parse_tags(override: Override) -> Tuple[Dict[str, str], Set[str]]:
    """The ``field:text`` tags by field, and the flags (``hidename``, ``prepend``) given."""
    tags: Dict[str, str] = {}
    flags: Set[str] = set()
    sweep = override.value()
    for tag in sorted(getattr(sweep, "tags", set())):
        field, sep, text = tag.partition(":")
        if field in TAG_FLAGS:
            if sep:
                raise SweepError(f"'{override.input_line}': tag '{field}' takes no value; write just {field}")
            flags.add(field)
            continue
        if not sep or field not in TAG_FIELDS:
            raise SweepError(
                f"'{override.input_line}': unknown tag '{tag}'; "
                f"use {', '.join([*(f + ':...' for f in TAG_FIELDS), *TAG_FLAGS])}"
            )
        if field in tags:
            raise SweepError(f"'{override.input_line}': tag '{field}:' given twice")
        tags[field] = text
    return tags, flags


def param_from_override(override: Override) -> Param:
    """The :class:`Param` a swept command-line override stands for."""
    line = override.input_line
    if not override.is_discrete_sweep():
        raise SweepError(f"'{line}': only finite sweeps (a,b / choice / range) can be expanded")
    if override.is_delete():
        raise SweepError(f"'{line}': a deletion cannot be swept")
    key = override.key_or_group
    tags, flags = parse_tags(override)
    values = [plain_value(v) for v in override.sweep_iterator()]
    value_names = None
    if "value_names" in tags:
        value_names = tags["value_names"].split(VALUE_NAME_SEPARATOR)
        if len(value_names) != len(values):
            raise SweepError(
                f"'{line}': {len(value_names)} value_names for {len(values)} values"
            )
    group: Hashable = _group_id(tags["group"]) if "group" in tags else OwnGroup(key)
    name = tags.get("name", split_key(key)[-1])
    return Param(
        key=key, name=name, group=group, values=values, value_names=value_names,
        hidename="hidename" in flags, prepend="prepend" in flags, origin=f"'{line}'",
    )


@dataclass(frozen=True)
class OwnGroup:
    """Group id of an untagged sweep: no user group id (int or string) can equal it."""

    key: str

    def __repr__(self) -> str:
        return f"<own group of {self.key}>"


@dataclass(frozen=True)
class FixedOverride:
    """A plain ``key=value`` / ``+key=value`` / ``~key`` on robomimic's config, as plain data."""

    key: str
    value: Any
    delete: bool
    line: str  # as typed, for messages


def fixed_override(override: Override) -> FixedOverride:
    delete = override.type == OverrideType.DEL
    return FixedOverride(
        key=override.key_or_group,
        value=None if delete else plain_value(override.value()),
        delete=delete,
        line=override.input_line,
    )


def plain_value(value: Any) -> Any:
    """A parsed override value with Hydra's quoted strings turned into plain ``str``."""
    if isinstance(value, QuotedString):
        return value.text
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    return value


def hydra_quote(text: str) -> str:
    """``text`` as a single-quoted value of Hydra's override grammar, read back verbatim:
    quotes escaped, and a run of backslashes before a quote or the end doubled."""
    escaped = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, text).replace("'", "\\'")
    return f"'{escaped}'"
