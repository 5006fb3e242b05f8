"""Rendering run configs fast, byte for byte what ``config_json(plan.run_config(...))`` gives.

Between the runs of a sweep only a few slots of the JSON text change: the run
name, each swept value and ``meta.hp_values``. Python's ``json.dumps`` with
``indent`` runs in pure Python and, with robomimic's deep copy of the base, is
where a generator spends its time. So we encode a skeleton config once, with a
unique marker in each slot, split its text at the markers, and pre-encode each
swept value once at its slot's indentation. A run is then a string join.

The options of robomimic's later generators need nothing here: ``hidename``,
``prepend`` and ``exclude`` only name, order or drop runs, and a ``wandb_proj_name``
of None leaves the base's text as it is.

If the skeleton cannot stand for every run (a param overlaps another param's key
or one the generator sets itself, so the document's shape could change with the
values) we fall back to building and encoding each run's config.
"""
import dataclasses
import json
import uuid
from typing import Any, Callable, List, Optional, Sequence

from launcher.core.document import config_json
from launcher.core.keys import split_key
from launcher.core.params import Choice, Param
from launcher.core.plan import SweepPlan

# Keys the generator itself writes; a param touching them changes the document's shape.
GENERATOR_KEYS = ("experiment.name", "experiment.logging.wandb_proj_name", "meta")


def _overlap(a: str, b: str) -> bool:
    pa, pb = split_key(a), split_key(b)
    n = min(len(pa), len(pb))
    return pa[:n] == pb[:n]


def template_applies(params: Sequence[Param]) -> bool:
    keys = [p.key for p in params]
    for i, key in enumerate(keys):
        if any(_overlap(key, g) for g in GENERATOR_KEYS):
            return False
        if any(_overlap(key, other) for other in keys[i + 1:]):
            return False
    return True


def _at_indent(value: Any, indent: str) -> str:
    """``value`` encoded as ``json.dumps(..., indent=4)`` encodes it on a line indented by ``indent``."""
    return json.dumps(value, indent=4).replace("\n", "\n" + indent)


class ConfigRenderer:
    """``text(name, choice)``: the JSON file of one run."""

    def __init__(self, plan: SweepPlan) -> None:
        self.plan = plan
        self.text: Callable[[str, Choice], str] = self._slow
        if template_applies(plan.params):
            template = self._build_template()
            if template is not None:
                self.text = template

    def _slow(self, name: str, choice: Choice) -> str:
        return config_json(self.plan.run_config(name, choice))

    def _build_template(self) -> Optional[Callable[[str, Choice], str]]:
        plan = self.plan
        token = uuid.uuid4().hex
        markers = [f"@@{token}:{i}@@" for i in range(len(plan.params) + 2)]
        name_marker, hp_marker, param_markers = markers[0], markers[1], markers[2:]
        skeleton_params = [
            Param(key=p.key, name=p.name, group=p.group, values=[m]) for p, m in zip(plan.params, param_markers)
        ]
        try:
            skeleton = dataclasses.replace(plan, params=skeleton_params).run_config(
                name_marker, (0,) * len(skeleton_params)
            )
            skeleton["meta"]["hp_values"] = hp_marker
        except Exception:
            return None  # the slow path reports whatever is wrong, with context
        text = config_json(skeleton)
        if any(text.count(json.dumps(m)) != 1 for m in markers):
            return None
        # Split in document order, remembering each slot's line indentation.
        slots = sorted(markers, key=lambda m: text.index(json.dumps(m)))
        pieces: List[str] = []
        indents: List[str] = []
        rest = text
        for marker in slots:
            before, _, rest = rest.partition(json.dumps(marker))
            pieces.append(before)
            line = before[before.rfind("\n") + 1:]
            indents.append(line[: len(line) - len(line.lstrip(" "))])
        pieces.append(rest)

        slot_index = {marker: i for i, marker in enumerate(slots)}
        name_slot = slot_index[name_marker]
        hp_slot = slot_index[hp_marker]
        hp_indent = indents[hp_slot]
        item_indent = hp_indent + "    "
        # Pre-encoded fragments: each value of each param at its slot, and each
        # hp_values element (value name or raw value) at the list's item indentation.
        value_fragments = [
            [_at_indent(v, indents[slot_index[m]]) for v in p.values] for p, m in zip(plan.params, param_markers)
        ]
        param_slots = [slot_index[m] for m in param_markers]
        named = [i for i, p in enumerate(plan.params) if p.name]
        hp_fragments = [[_at_indent(plan.params[i].value_name(j), item_indent)
                         for j in range(len(plan.params[i].values))] for i in named]

        def render(name: str, choice: Choice) -> str:
            filled: List[str] = [""] * len(slots)
            filled[name_slot] = json.dumps(name)
            for fragments, slot, index in zip(value_fragments, param_slots, choice):
                filled[slot] = fragments[index]
            if named:
                items = [hp_fragments[k][choice[i]] for k, i in enumerate(named)]
                filled[hp_slot] = "[\n" + item_indent + (",\n" + item_indent).join(items) + "\n" + hp_indent + "]"
            else:
                filled[hp_slot] = "[]"
            out = [pieces[0]]
            for piece, value in zip(pieces[1:], filled):
                out.append(value)
                out.append(piece)
            return "".join(out)

        return render
