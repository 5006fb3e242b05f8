"""The fast renderer writes byte for byte what building and encoding each config writes."""
import dataclasses

import pytest

from launcher.core.document import config_json
from launcher.core.params import Exclusion, Param, param_from_entry
from launcher.core.plan import SweepPlan
from launcher.core.render import ConfigRenderer, template_applies
from tests.helpers import robomimic_default
from tests.test_parity import AWKWARD_SWEEP, OBS_SWEEP, SEED_SWEEP


def plan_for(base, entries):
    params = [e if isinstance(e, Param) else param_from_entry(e, "t") for e in entries]
    return SweepPlan(base=base, base_name="b", params=params, base_config_file="base.json", wandb_proj_name="proj")


PARTIAL = {"algo_name": "bc", "experiment": {"name": "x"}, "train": {"seed": 1}}

SWEEPS = {
    "seed": (robomimic_default("bc"), SEED_SWEEP),
    "awkward": (robomimic_default("bc"), AWKWARD_SWEEP),
    "dict values": (robomimic_default("td3_bc"), OBS_SWEEP),
    "partial base, new sections": (PARTIAL, [{"key": "algo.rnn.enabled", "name": "", "group": 0, "values": [True]},
                                             {"key": "train/seed", "name": "s", "group": 1, "values": [1, 2]}]),
    "only unnamed": (robomimic_default("bc"), [{"key": "train.seed", "name": "", "group": 0, "values": [3]}]),
    "meta already in base with extras": ({**PARTIAL, "meta": {"mine": 1, "hp_keys": ["old"]}},
                                         [{"key": "train.seed", "name": "s", "group": 0, "values": [[{"a": [1]}], None]}]),
}


@pytest.mark.parametrize("base, entries", SWEEPS.values(), ids=SWEEPS.keys())
def test_template_renders_what_the_slow_path_does(base, entries):
    plan = plan_for(base, entries)
    assert template_applies(plan.params)
    renderer = ConfigRenderer(plan)
    assert renderer.text != renderer._slow, "the fast path should be taken"
    for name, choice in plan.runs():
        assert renderer.text(name, choice) == config_json(plan.run_config(name, choice))


OVERLAPPING = {
    "section and a key inside it": [{"key": "algo.rnn", "name": "r", "group": 0, "values": [{"enabled": True, "x": 1}]},
                                    {"key": "algo.rnn.hidden_dim", "name": "h", "group": 1, "values": [1, 2]}],
    "the run name itself": [{"key": "experiment.name", "name": "", "group": 0, "values": ["fixed"]}],
    "experiment.logging": [{"key": "experiment.logging", "name": "l", "group": 0, "values": [{"log_tb": False}]}],
    "meta": [{"key": "meta.hp_keys", "name": "", "group": 0, "values": [["x"]]}],
}


@pytest.mark.parametrize("entries", OVERLAPPING.values(), ids=OVERLAPPING.keys())
def test_overlapping_keys_take_the_slow_path_and_stay_exact(entries):
    plan = plan_for(robomimic_default("bc"), entries)
    assert not template_applies(plan.params)
    renderer = ConfigRenderer(plan)
    for name, choice in plan.runs():
        assert renderer.text(name, choice) == config_json(plan.run_config(name, choice))


def params_of(entries):
    return [param_from_entry(e, f"t{i}") for i, e in enumerate(entries)]


# The options of robomimic's later generators: the template still applies and stays exact.
LATER_OPTIONS = {
    "hidename and prepend": dict(params=params_of([
        {"key": "train.seed", "name": "seed", "group": 0, "values": [1, 2], "hidename": True},
        {"key": "train.batch_size", "name": "bs", "group": 1, "values": [16, 32], "prepend": True}])),
    "values_and_names with null names": dict(params=params_of([
        {"key": "train.data", "name": "ds", "group": 0, "values_and_names": [[[{"path": "a"}], "a"], ["b", None]]}])),
    "wandb not written, empty base name": dict(wandb_proj_name=None, base_name="", leading_separator=False),
    "exclude": dict(exclude=(Exclusion(matches=((3, frozenset({0})),), origin="x"),)),
}


@pytest.mark.parametrize("changes", LATER_OPTIONS.values(), ids=LATER_OPTIONS.keys())
def test_template_stays_exact_with_the_later_generators_options(changes):
    plan = dataclasses.replace(plan_for(robomimic_default("bc"), SEED_SWEEP), **changes)
    renderer = ConfigRenderer(plan)
    assert renderer.text != renderer._slow, "the fast path should be taken"
    runs = list(plan.runs())
    assert runs
    for name, choice in runs:
        assert renderer.text(name, choice) == config_json(plan.run_config(name, choice))
