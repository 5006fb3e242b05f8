"""The pure sweep logic, without Hydra, against robomimic's ConfigGenerator internals."""
import json
from typing import Any, List

import pytest

from launcher.core.document import build_run_config, config_json
from launcher.core.errors import SweepError
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


# -- the sweep file's fields beyond 0.3.0's add_param ---------------------------------------

def plan_of(tmp_path, sweep_file, **launch):
    from launcher.request.planning import make_plan
    from tests.helpers import make_request

    launch.setdefault("wandb_proj_name", None)
    return make_plan(make_request(tmp_path, sweep_file=sweep_file, **launch))


def entry(key, name, group, values, **kw):
    return {"key": key, "name": name, "group": group, "values": values, **kw}


GRID = [
    entry("algo.optim_params.policy.learning_rate.initial", "lr", 0, [1e-3, 1e-4]),
    entry("algo.gmm.enabled", "gmm", 1, [True, False], value_names=["t", "f"]),
    entry("train.seed", "seed", 2, [1, 2, 3]),
]


def run_names(plan):
    return [name for name, _ in plan.runs()]


def test_exclude_drops_the_runs_matching_every_pair_of_an_entry(tmp_path):
    plan = plan_of(tmp_path, {"params": GRID, "exclude": [
        {"algo.gmm.enabled": False, "train.seed": 3},
        {"algo/optim_params/policy/learning_rate/initial": 1e-4, "algo.gmm.enabled": True},
    ]})
    assert run_names(plan) == [
        "test_lr_0.001_gmm_t_seed_1", "test_lr_0.001_gmm_t_seed_2", "test_lr_0.001_gmm_t_seed_3",
        "test_lr_0.001_gmm_f_seed_1", "test_lr_0.001_gmm_f_seed_2",
        "test_lr_0.0001_gmm_f_seed_1", "test_lr_0.0001_gmm_f_seed_2",
    ]
    assert plan.count_runs() == (7, 12)


def test_exclude_compares_as_json_values(tmp_path):
    sweep = [entry("train.seed", "seed", 0, [1, 2]), entry("algo.actor_layer_dims", "mlp", 1, [[64, 64], []]),
             entry("observation.modalities.obs.low_dim", "obs", 2, [["a", "b"], ["a"]])]
    plan = plan_of(tmp_path, {"params": sweep, "exclude": [{"train.seed": 1.0, "algo.actor_layer_dims": []},
                                                             {"observation.modalities.obs.low_dim": ["a"]}]})
    assert run_names(plan) == ["test_seed_1_mlp_64_64_obs_a_b", "test_seed_2_mlp_64_64_obs_a_b",
                               "test_seed_2_mlp_obs_a_b"]


@pytest.mark.parametrize("exclude, fragments", [
    pytest.param([{"algo.gmm.enabled": 1}], ["sweep.exclude[0]", "algo.gmm.enabled never takes the value 1",
                                             "(its values: true, false)", "1 is not true"], id="1-is-not-true"),
    pytest.param([{"train.seed": "1"}], ["never takes the value \"1\""], id="string-is-not-int"),
    pytest.param([{"train.seed": 1}, {"train.batch_size": 16}], ["sweep.exclude[1]", "'train.batch_size' is not a key "
                                                                 "this sweep varies"], id="key-not-swept"),
    pytest.param([{}], ["sweep.exclude[0]: expected a mapping of swept keys to values"], id="empty-entry"),
    pytest.param([["train.seed", 1]], ["sweep.exclude[0]: expected a mapping"], id="not-a-mapping"),
    pytest.param({"train.seed": 1}, ["sweep.exclude must be a list"], id="not-a-list"),
    pytest.param([{"algo.optim_params.policy.learning_rate.initial": 1e-3},
                  {"algo.optim_params.policy.learning_rate.initial": 1e-4}], ["drops every run"], id="drops-all"),
])
def test_bad_excludes_are_refused_naming_the_entry(tmp_path, exclude, fragments):
    with pytest.raises(SweepError) as err:
        plan_of(tmp_path, {"params": GRID, "exclude": exclude})
    for fragment in fragments:
        assert fragment in str(err.value)


EMPTY_BASE_NAME = [entry("train.seed", "seed", 0, [1]), entry("train.batch_size", "bs", 1, [16], hidename=True)]


@pytest.mark.parametrize("fields, name", [
    pytest.param({}, "_seed_1", id="0.3.0-always-adds-the-separator"),
    pytest.param({"base_name": ""}, "seed_1", id="base_name-empty-master-rule"),
    pytest.param({"base_name": "scan"}, "scan_seed_1", id="base_name-replaces-experiment.name"),
    pytest.param({"hide_base_name": True, "base_name": "scan"}, "seed_1", id="hide_base_name-wins"),
])
def test_run_names_start_as_base_name_and_hide_base_name_say(tmp_path, fields, name):
    plan = plan_of(tmp_path, {"params": EMPTY_BASE_NAME, **fields}, fixed={"experiment.name": ""})
    assert run_names(plan) == [name]
    assert plan.run_config(name, (0, 0))["meta"]["hp_keys"] == ["seed", "bs"]  # hidename still recorded


@pytest.mark.parametrize("launch, sweep, written", [
    pytest.param(None, {}, "debug", id="neither-0.3.0-default"),
    pytest.param(None, {"wandb_proj_name": "mine"}, "mine", id="the-sweep-files"),
    pytest.param(None, {"wandb_proj_name": None}, "from-base", id="sweep-file-null-not-written"),
    pytest.param("cli", {"wandb_proj_name": "mine"}, "cli", id="launch-option-wins"),
    pytest.param(False, {"wandb_proj_name": "mine"}, "from-base", id="launch-false-not-written"),
])
def test_wandb_proj_name_launch_option_then_sweep_file_then_debug(tmp_path, launch, sweep, written):
    plan = plan_of(tmp_path, {"params": GRID[:1], **sweep}, wandb_proj_name=launch,
                   fixed={"experiment.logging.wandb_proj_name": "from-base"})
    name, choice = next(plan.runs())
    assert plan.run_config(name, choice)["experiment"]["logging"]["wandb_proj_name"] == written


@pytest.mark.parametrize("sweep_file, fragments", [
    pytest.param({"params": GRID, "base_name": 3}, ["sweep.base_name must be a string"], id="base_name"),
    pytest.param({"params": GRID, "hide_base_name": "yes"}, ["sweep.hide_base_name must be true or false"],
                 id="hide_base_name"),
    pytest.param({"params": GRID, "wandb_proj_name": 5}, ["sweep.wandb_proj_name must be a project name"],
                 id="wandb_proj_name"),
    pytest.param({"params": [entry("train.seed", "s", 0, [1], hidename="yes")]},
                 ["sweep.params[0] (train.seed): 'hidename' must be true or false"], id="hidename"),
    pytest.param({"params": [{"key": "train.seed", "name": "s", "group": 0, "values_and_names": [[1, "a", "b"]]}]},
                 ["sweep.params[0] (train.seed): values_and_names must be a list of [value, name] pairs"],
                 id="values_and_names-triple"),
    pytest.param({"params": [{"key": "train.seed", "name": "s", "group": 0}]},
                 ["sweep.params[0] (train.seed): missing field(s) ['values']"], id="no-values"),
])
def test_bad_sweep_file_fields_name_the_field(tmp_path, sweep_file, fragments):
    with pytest.raises(SweepError) as err:
        plan_of(tmp_path, sweep_file)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_values_and_names_is_values_plus_value_names(tmp_path):
    pairs = plan_of(tmp_path, {"params": [{"key": "train.seed", "name": "s", "group": 0,
                                           "values_and_names": [[1, "one"], [2, None]]}]})
    lists = plan_of(tmp_path, {"params": [entry("train.seed", "s", 0, [1, 2], value_names=["one", None])]})
    assert run_names(pairs) == run_names(lists) == ["test_s_one", "test_s_2"]
    assert pairs.params[0].values == [1, 2] and pairs.params[0].value_names == ["one", None]


def test_prepend_in_a_sweep_file_moves_the_param_and_its_group_first(tmp_path):
    plan = plan_of(tmp_path, {"params": [*GRID[:2], entry("train.seed", "seed", 2, [1, 2], prepend=True)]})
    assert [p.key for p in plan.params] == ["train.seed", *(e["key"] for e in GRID[:2])]
    assert run_names(plan)[:2] == ["test_seed_1_lr_0.001_gmm_t", "test_seed_1_lr_0.001_gmm_f"]


@pytest.mark.parametrize("value, parsed", [
    pytest.param(None, None, id="null-defers"), pytest.param(False, False, id="false-not-written"),
    pytest.param("proj", "proj", id="a-name"),
])
def test_launch_wandb_proj_name_takes_a_name_null_or_false(tmp_path, value, parsed):
    from launcher.request.launch_options import LaunchOptions

    options = {"mode": "script", "config_dir": "c", "script_file": "s.sh", "train_script": "train.py",
               "wandb_proj_name": value}
    read = LaunchOptions.from_mapping(options, tmp_path).wandb_proj_name
    assert (read, type(read)) == (parsed, type(parsed))


def test_launch_wandb_proj_name_that_is_a_number_is_refused(tmp_path):
    from launcher.request.launch_options import LaunchOptions

    options = {"mode": "script", "config_dir": "c", "script_file": "s.sh", "train_script": "train.py",
               "wandb_proj_name": 123}
    with pytest.raises(SweepError, match="launch.wandb_proj_name must be a project name"):
        LaunchOptions.from_mapping(options, tmp_path)
