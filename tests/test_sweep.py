"""The pure sweep logic, without Hydra, against robomimic's ConfigGenerator internals."""
import json
from typing import Any, List

import pytest

from launcher.core.errors import SweepError
from launcher.core.document import build_run_config, config_json
from launcher.core.params import Param, add_param, expand_groups, hp_meta, run_name


def robomimic_generator(params: List[Param]):
    from robomimic.utils.hyperparam_utils import ConfigGenerator

    generator = ConfigGenerator(base_config_file="unused.json")
    for p in params:
        generator.add_param(p.key, p.name, p.group, list(p.values), p.value_names)
    return generator


def robomimic_runs(params: List[Param]) -> List[List[Any]]:
    """robomimic's value of each param for each run, via its own range expansion."""
    ranges, _ = robomimic_generator(params)._get_parameter_ranges()
    per_param = [ranges[p.key] for p in params]
    return [list(run) for run in zip(*per_param)]


SWEEPS = {
    "three groups, first slowest": [
        Param("a", "a", 1, [1, 2]),
        Param("b", "b", 2, [10, 20, 30]),
        Param("c", "c", 3, ["x", "y"]),
    ],
    "groups ordered by first appearance, not id": [
        Param("a", "a", 9, [1, 2]),
        Param("b", "b", 0, [10, 20, 30]),
        Param("c", "c", 9, ["x", "y"]),
    ],
    "interleaved zipped group": [
        Param("a", "a", "lr", [1, 2, 3]),
        Param("b", "b", "seed", [7, 8]),
        Param("c", "c", "lr", [0.1, 0.2, 0.3]),
    ],
    "single-value groups": [Param("a", "", 0, [True]), Param("b", "b", 1, [1, 2])],
}


@pytest.mark.parametrize("params", SWEEPS.values(), ids=SWEEPS.keys())
def test_expansion_order_is_robomimics(params):
    ours = [[p.values[i] for p, i in zip(params, choice)] for choice in expand_groups(params)]
    assert ours == robomimic_runs(params)


VALUES_AND_NAMES = [
    (1e-3, None), (1e-4, None), (1e-5, None), (0.1 + 0.2, None), (2.0, None), (1e20, None),
    (float("inf"), None), (True, None), (False, None), (None, None), (0, None), (-3, None),
    ("str", None), ("", None), ([], None), ([1024, 1024], None), ((3, 4), None),
    ([[1, 2], 3], None), ({"a": 1}, None), (400, "big"), ([1], ""), (5, 7),
]


@pytest.mark.parametrize("value, value_name", VALUES_AND_NAMES)
@pytest.mark.parametrize("name", ["p", ""])
def test_run_name_spells_values_as_robomimic(value, value_name, name):
    params = [
        Param("k", name, 0, [value], None if value_name is None else [value_name]),
        Param("seed", "seed", 1, [1]),
    ]
    generator = robomimic_generator(params)
    theirs = generator._name_for_experiment(
        base_name="base",
        parameter_values={"k": value, "seed": 1},
        parameter_value_names={"k": value_name, "seed": None},
    )
    assert run_name("base", params, (0, 0)) == theirs


def test_unequal_counts_in_a_group_name_the_group_and_each_param():
    params = [Param("algo.a", "a", 3, [1, 2]), Param("algo.b", "b", 3, [1, 2, 3])]
    with pytest.raises(SweepError) as err:
        list(expand_groups(params))
    message = str(err.value)
    assert "group 3" in message and "algo.a has 2" in message and "algo.b has 3" in message


def test_re_adding_a_key_replaces_it_in_place_either_spelling():
    params: List[Param] = []
    add_param(params, Param("train.seed", "seed", 0, [1]))
    add_param(params, Param("algo.x", "x", 1, [1]))
    add_param(params, Param("train/seed", "s", 2, [5, 6]))
    assert [(p.key, p.name) for p in params] == [("train/seed", "s"), ("algo.x", "x")]


def test_hp_meta_records_value_names_raw_and_skips_unnamed():
    params = [
        Param("a", "", 0, [1]),
        Param("b", "b", 0, [[1, 2]]),
        Param("c", "c", 0, [True], value_names=[7]),
    ]
    assert hp_meta(params, (0, 0, 0)) == (["b", "c"], [[1, 2], 7])


def test_partial_base_without_logging_is_not_given_one():
    base = {"algo_name": "bc", "experiment": {"name": "x"}, "train": {"seed": 1}}
    params = [Param("train.seed", "seed", 0, [2]), Param("algo.rnn.enabled", "", 1, [True])]
    config = build_run_config(base, params, (0, 0), "x_seed_2", "b.json", "debug")
    assert json.loads(config_json(config)) == {
        "algo_name": "bc",
        "experiment": {"name": "x_seed_2"},
        "train": {"seed": 2},
        "algo": {"rnn": {"enabled": True}},
        "meta": {"hp_base_config_file": "b.json", "hp_keys": ["seed"], "hp_values": [2]},
    }
    assert base["experiment"]["name"] == "x", "the base must not be modified"
