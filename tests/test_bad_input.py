"""Each bad input is refused with a clear message, a non-zero exit and nothing written."""
import json
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pytest

from tests.helpers import robomimic_default, run_app, run_app_failing, write_sweep


def refuse(tmp_path: Path, args: Sequence[str], *fragments: str, params: List[Dict[str, Any]] = None) -> str:
    """Run a sweep that must fail; check the message and that nothing was written."""
    extra = []
    if params is not None:
        write_sweep(tmp_path / "user_conf", "bad", params)
        extra = ["--config-dir", str(tmp_path / "user_conf"), "sweep=bad"]
    out = tmp_path / "out"
    proc = run_app_failing(
        [*extra, f"launch.config_dir={out}", f"launch.script_file={out / 'run.sh'}",
         f"hydra.sweep.dir={tmp_path / 'sweep_dir'}", *args]
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, f"{fragment!r} not in:\n{proc.stderr}"
    assert not out.exists() or not any(out.iterdir()), "something was written"
    assert not (tmp_path / "sweep_dir").exists() or not any((tmp_path / "sweep_dir").rglob("*.json"))
    return proc.stderr


def p(key, name, group, values, **kw):
    return {"key": key, "name": name, "group": group, "values": values, **kw}


def test_unequal_value_counts_in_a_group(tmp_path):
    refuse(tmp_path, [], "group 3", "algo.rnn.hidden_dim has 2", "algo.actor_layer_dims has 3",
           params=[p("algo.rnn.hidden_dim", "rnnd", 3, [400, 1000]),
                   p("algo.actor_layer_dims", "mlp", 3, [[1], [2], [3]])])


def test_value_names_count_differs(tmp_path):
    refuse(tmp_path, [], "sweep.params[0]", "3 value_names for 2 values",
           params=[p("algo.gmm.enabled", "gmm", 0, [True, False], value_names=["t", "f", "x"])])


def test_values_not_a_list(tmp_path):
    refuse(tmp_path, [], "sweep.params[0]", "'values' must be a list",
           params=[p("train.seed", "seed", 0, 5)])


def test_empty_sweep(tmp_path):
    refuse(tmp_path, [], "the sweep is empty")


def test_unknown_key_in_sweep_file_suggests_the_closest(tmp_path):
    refuse(tmp_path, [], "sweep.params[0]", "'train.batch_sizee' is not a key of robomimic's bc config",
           "did you mean 'train.batch_size'", params=[p("train.batch_sizee", "bs", 0, [1, 2])])


def test_unknown_key_swept_on_the_command_line(tmp_path):
    refuse(tmp_path, ["algo.optim_params.policy.learning_rate.intial=1e-3,1e-4"],
           "'algo.optim_params.policy.learning_rate.intial' is not a key",
           "did you mean 'algo.optim_params.policy.learning_rate.initial'")


def test_unknown_key_forced_on_the_command_line(tmp_path):
    refuse(tmp_path, ["sweep=bc_rnn_hyper", "+train.bogus=1"], "'+train.bogus=1'", "not a key")


def test_unknown_key_in_base_json(tmp_path):
    base = robomimic_default("bc")
    base["train"]["hdf5_cache_modes"] = "all"
    (tmp_path / "base.json").write_text(json.dumps(base))
    refuse(tmp_path, ["sweep=bc_rnn_hyper", f"base_config={tmp_path / 'base.json'}"],
           "base.json", "'train.hdf5_cache_modes' is not a key", "did you mean 'train.hdf5_cache_mode'")


def test_keys_inside_open_sub_configs_are_accepted(tmp_path):
    """robomimic leaves observation.modalities.obs, observation.encoder and *_kwargs open."""
    out = tmp_path / "out"
    run_app(["train.seed=1,2", "+observation.modalities.obs.my_modality=[cam]",
             "+observation.encoder.rgb.core_kwargs.my_kwarg=3",
             f"launch.config_dir={out}", f"launch.script_file={out / 'run.sh'}",
             f"hydra.sweep.dir={tmp_path / 'sd'}"])
    config = json.loads((out / "test_seed_1.json").read_text())
    assert config["observation"]["modalities"]["obs"]["my_modality"] == ["cam"]


@pytest.mark.parametrize(
    "override, expected",
    [
        ("train.batch_size=16.5,32", "'train.batch_size' must be an int"),
        ("algo.gmm.enabled=1,0", "'algo.gmm.enabled' must be a bool"),
        ("algo.actor_layer_dims=64,128", "'algo.actor_layer_dims' must be a list"),
        ("train.hdf5_cache_mode=1,2", "'train.hdf5_cache_mode' must be a string"),
    ],
)
def test_wrong_type(tmp_path, override, expected):
    refuse(tmp_path, [override], expected, "got")


def test_float_default_takes_an_int_and_null_default_takes_anything(tmp_path):
    out = tmp_path / "out"
    run_app(["algo.optim_params.policy.learning_rate.initial=1,2", "train.hdf5_filter_key=a,null",
             f"launch.config_dir={out}", f"launch.script_file={out / 'run.sh'}",
             f"hydra.sweep.dir={tmp_path / 'sd'}"])
    assert len(list(out.glob("*.json"))) == 4


def test_missing_base_json(tmp_path):
    refuse(tmp_path, ["sweep=bc_rnn_hyper", f"base_config={tmp_path / 'nope.json'}"],
           "no such file", "nope.json")


def test_unreadable_base_json(tmp_path):
    (tmp_path / "adir.json").mkdir()
    refuse(tmp_path, ["sweep=bc_rnn_hyper", f"base_config={tmp_path / 'adir.json'}"],
           "cannot read", "adir.json")


def test_invalid_base_json_says_line_and_column(tmp_path):
    (tmp_path / "broken.json").write_text('{\n  "algo_name": "bc",\n  "train": {"seed": 1,}\n}\n')
    refuse(tmp_path, ["sweep=bc_rnn_hyper", f"base_config={tmp_path / 'broken.json'}"],
           "broken.json is not valid JSON", "line 3, column")


def test_unknown_algo_name_in_base_json(tmp_path):
    (tmp_path / "b.json").write_text(json.dumps({"algo_name": "bc_transformer", "experiment": {"name": "x"}}))
    refuse(tmp_path, ["sweep=bc_rnn_hyper", f"base_config={tmp_path / 'b.json'}"],
           "'bc_transformer' is not a robomimic 0.3.0 algorithm", "td3_bc")


def test_colliding_run_names_show_both_runs_and_suggest_a_name(tmp_path):
    refuse(tmp_path, [], "two runs would both be named 'test_seed_1'", "train.batch_size=16",
           "train.batch_size=32", "give 'train.batch_size' a non-empty name",
           params=[p("train.seed", "seed", 0, [1]), p("train.batch_size", "", 1, [16, 32])])


@pytest.mark.parametrize(
    "values, value_names, reason",
    [
        (["a/b", "c"], None, "contains '/'"),
        ([1, 2], ["x" * 300, "y"], "longer than"),
    ],
)
def test_run_names_unusable_as_file_names(tmp_path, values, value_names, reason):
    kw = {"value_names": value_names} if value_names else {}
    refuse(tmp_path, [], reason, params=[p("train.hdf5_filter_key" if value_names is None else "train.seed",
                                         "k", 0, values, **kw)])


def test_empty_base_name_gives_robomimics_names_and_an_empty_run_name_is_refused(tmp_path):
    out = tmp_path / "out"
    run_app(["train.seed=1,2", "experiment.name=''", f"launch.config_dir={out}",
             f"launch.script_file={out / 'run.sh'}", f"hydra.sweep.dir={tmp_path / 'sd'}"])
    assert sorted(p.name for p in out.glob("*.json")) == ["_seed_1.json", "_seed_2.json"]
    refuse(tmp_path / "unnamed", ["train.seed=tag(name:,choice(1))", "experiment.name=''"],
           "run name '' cannot be a file name")


def test_base_json_without_experiment_name_is_refused(tmp_path):
    (tmp_path / "b.json").write_text(json.dumps({"algo_name": "bc", "train": {"seed": 1}}))
    refuse(tmp_path, ["sweep=bc_rnn_hyper", f"base_config={tmp_path / 'b.json'}"],
           "b.json: 'experiment.name' must be a string, got None")


def test_same_key_twice_in_a_sweep_file(tmp_path):
    refuse(tmp_path, [], "sweep.params[1]", "'train/seed' is already swept by sweep.params[0]",
           "robomimic would silently keep only the last",
           params=[p("train.seed", "seed", 0, [1, 2]), p("train/seed", "s", 1, [3])])


def test_existing_config_with_other_content_is_kept(tmp_path):
    out = tmp_path / "out"
    args = ["train.seed=1,2", f"launch.config_dir={out}", f"launch.script_file={out / 'run.sh'}",
            f"hydra.sweep.dir={tmp_path / 'sd'}"]
    run_app(args)
    before = {f.name: f.read_text() for f in out.iterdir()}
    run_app(args)  # identical: a re-run is fine
    assert {f.name: f.read_text() for f in out.iterdir()} == before

    proc = run_app_failing(args + ["train.batch_size=64"])
    assert "test_seed_1.json" in proc.stderr and "launch.overwrite=true" in proc.stderr
    assert {f.name: f.read_text() for f in out.iterdir()} == before, "nothing may change"

    run_app(args + ["train.batch_size=64", "launch.overwrite=true"])
    assert json.loads((out / "test_seed_1.json").read_text())["train"]["batch_size"] == 64


def test_no_temporary_files_are_left(tmp_path):
    out = tmp_path / "out"
    run_app(["sweep=bc_rnn_hyper", f"launch.config_dir={out}", f"launch.script_file={out / 'run.sh'}",
             f"hydra.sweep.dir={tmp_path / 'sd'}"])
    assert sorted(f.name for f in out.iterdir() if f.name.startswith(".")) == []
