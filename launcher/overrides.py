"""Grouped sweeps on the command line, inside Hydra's override grammar.

Hydra 1.3 rejects unknown functions such as ``zip(...)`` before a sweeper sees
them, but ``tag(...)`` parses and attaches free-form string tags to any sweep.
We read three tags::

    algo.rnn.hidden_dim=tag(group:3,name:rnnd,choice(400,1000))
    algo.actor_layer_dims=tag(group:3,name:mlp,value_names:1024|0,choice([1024,1024],[]))

* ``group:G``: params with the same group are zipped (``G`` may be an int or a word,
  and joins a group of the same id from the sweep file);
* ``name:N``: the short name in the run name; ``name:`` (empty) leaves it out;
* ``value_names:a|b``: the strings shown in the run name instead of the values.

An untagged sweep (``train.seed=1,2,3``) is its own group, named after the last
part of its key (``seed``).
"""
from dataclasses import dataclass
from typing import Any, Dict, Hashable, List, Sequence

from hydra.core.override_parser.types import Override, OverrideType

from launcher.errors import SweepError
from launcher.keys import split_key
from launcher.robomimic_config import set_value
from launcher.sweep import Param

TAG_FIELDS = ("group", "name", "value_names")
VALUE_NAME_SEPARATOR = "|"


def _group_id(text: str) -> Hashable:
    """``group:3`` joins the sweep file's int group 3; other ids stay strings."""
    try:
        return int(text)
    except ValueError:
        return text


def parse_tags(override: Override) -> Dict[str, str]:
    tags: Dict[str, str] = {}
    sweep = override.value()
    for tag in sorted(getattr(sweep, "tags", set())):
        field, sep, text = tag.partition(":")
        if not sep or field not in TAG_FIELDS:
            raise SweepError(
                f"'{override.input_line}': unknown tag '{tag}'; "
                f"use {', '.join(f + ':...' for f in TAG_FIELDS)}"
            )
        if field in tags:
            raise SweepError(f"'{override.input_line}': tag '{field}:' given twice")
        tags[field] = text
    return tags


def param_from_override(override: Override) -> Param:
    """The :class:`Param` a swept command-line override stands for."""
    line = override.input_line
    if not override.is_discrete_sweep():
        raise SweepError(f"'{line}': only finite sweeps (a,b / choice / range) can be expanded")
    if override.is_delete():
        raise SweepError(f"'{line}': a deletion cannot be swept")
    key = override.key_or_group
    tags = parse_tags(override)
    values = list(override.sweep_iterator())
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
        key=key, name=name, group=group, values=values, value_names=value_names, origin=f"'{line}'"
    )


@dataclass(frozen=True)
class OwnGroup:
    """Group id of an untagged sweep: no user group id (int or string) can equal it."""

    key: str

    def __repr__(self) -> str:
        return f"<own group of {self.key}>"


def apply_override(config: Dict[str, Any], override: Override) -> None:
    """Apply a non-swept ``key=value`` / ``+key=value`` / ``~key`` to a plain config dict."""
    key = override.key_or_group
    if override.type == OverrideType.DEL:
        parts = split_key(key)
        node: Any = config
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or parts[-1] not in node:
            raise SweepError(f"'{override.input_line}': no key '{key}' to delete")
        del node[parts[-1]]
        return
    set_value(config, key, override.value())


def split_sweeps(overrides: Sequence[Override]) -> "tuple[List[Override], List[Override]]":
    """(swept overrides, fixed overrides), each in command-line order."""
    swept = [o for o in overrides if o.is_sweep_override()]
    fixed = [o for o in overrides if not o.is_sweep_override()]
    return swept, fixed
