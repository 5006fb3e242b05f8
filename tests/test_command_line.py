"""Grouped sweeps typed on the command line, alone and combined with a sweep file."""
import json

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from launcher.core.errors import SweepError
from launcher.core.params import Param
from launcher.request.overrides import param_from_override
from tests.helpers import config_files, emit_ours, run_app, script_lines

# The seed sweep written as overrides alone.
SEED_ON_THE_COMMAND_LINE = [
    "algo.rnn.enabled=tag(group:0,name:,choice(true))",
    "train.seq_length=tag(group:0,name:,choice(10))",
    "algo.rnn.horizon=tag(group:0,name:,choice(10))",
    "algo.optim_params.policy.learning_rate.initial=tag(group:1,name:plr,choice(1e-3,1e-4))",
    "algo.gmm.enabled=tag(group:2,name:gmm,value_names:t|f,choice(true,false))",
    "algo.rnn.hidden_dim=tag(group:3,name:rnnd,choice(400,1000))",
    "algo.actor_layer_dims=tag(group:3,name:mlp,value_names:1024|0,choice([1024,1024],[]))",
]


def parse(line: str) -> Param:
    return param_from_override(OverridesParser.create().parse_override(line))


def test_tags_give_group_name_and_value_names():
    param = parse("algo.actor_layer_dims=tag(group:3,name:mlp,value_names:1024|0,choice([1024,1024],[]))")
    assert (param.key, param.name, param.group) == ("algo.actor_layer_dims", "mlp", 3)
    assert param.values == [[1024, 1024], []] and param.value_names == ["1024", "0"]


def test_untagged_sweep_is_its_own_group_named_after_its_key():
    seed, other = parse("train.seed=1,2,3"), parse("algo.seed=4,5,6")
    assert (seed.name, seed.values) == ("seed", [1, 2, 3])
    assert seed.group != other.group and seed.group != "seed"


@pytest.mark.parametrize("line, hidename, prepend", [
    pytest.param("train.seed=tag(name:seed,hidename,choice(1,2))", True, False, id="hidename"),
    pytest.param("train.seed=tag(prepend,range(1,3))", False, True, id="prepend-on-a-range"),
    pytest.param("train.seed=tag(group:1,prepend,hidename,choice(1,2))", True, True, id="both"),
    pytest.param("train.seed=tag(name:seed,choice(1,2))", False, False, id="neither"),
])
def test_hidename_and_prepend_are_bare_tags(line, hidename, prepend):
    param = parse(line)
    assert (param.hidename, param.prepend, param.values) == (hidename, prepend, [1, 2])


@pytest.mark.parametrize(
    "line, message",
    [
        ("a.b=tag(grp:1,choice(1,2))", "unknown tag 'grp:1'"),
        ("a.b=tag(hidename:true,choice(1,2))", "tag 'hidename' takes no value; write just hidename"),
        ("a.b=tag(prepnd,choice(1,2))", "unknown tag 'prepnd'; use group:..., name:..., value_names:..., hidename, "
                                        "prepend"),
        ("a.b=tag(name:x,value_names:a,choice(1,2))", "1 value_names for 2 values"),
        ("a.b=interval(0,1)", "only finite sweeps"),
    ],
)
def test_bad_tags_are_refused_with_the_override_named(line, message):
    with pytest.raises(SweepError, match=message) as err:
        parse(line)
    assert line in str(err.value)


def emit(tmp_path, args):
    """Script mode in this process, as ``launcher/run.py`` would run it with ``args``."""
    return emit_ours(tmp_path, None, ["experiment.name=bc_rnn_hyper", *args])


def test_command_line_alone_equals_the_sweep_file(tmp_path):
    from_file = emit(tmp_path / "file", ["sweep=bc_rnn_hyper"])
    # Through launcher/run.py: the tag(...) syntax as the shell and Hydra hand it over.
    from_cli = tmp_path / "cli" / "out"
    run_app([f"launch.config_dir={from_cli}", f"launch.script_file={from_cli / 'out.sh'}",
             f"hydra.sweep.dir={tmp_path / 'cli' / 'sd'}", "experiment.name=bc_rnn_hyper", *SEED_ON_THE_COMMAND_LINE])
    assert script_lines(from_cli) == script_lines(from_file)
    assert config_files(from_cli) == config_files(from_file)
    assert len(config_files(from_cli)) == 8


def test_plain_sweep_adds_a_fastest_varying_group_to_a_sweep_file(tmp_path):
    out = emit(tmp_path, ["sweep=bc_rnn_hyper", "train.seed=1,2,3"])
    commands = [line for line in script_lines(out) if line.startswith("python")]
    assert len(commands) == 24
    assert commands[:3] == [
        f"python train.py --config <dir>/bc_rnn_hyper_plr_0.001_gmm_t_rnnd_400_mlp_1024_seed_{s}.json"
        for s in (1, 2, 3)
    ]
    config = json.loads((out / "bc_rnn_hyper_plr_0.0001_gmm_f_rnnd_1000_mlp_0_seed_2.json").read_text())
    assert config["train"]["seed"] == 2 and config["meta"]["hp_keys"][-1] == "seed"


def test_tagged_override_joins_a_sweep_file_group(tmp_path):
    out = emit(tmp_path, ["sweep=bc_rnn_hyper", "train.batch_size=tag(group:3,name:bs,choice(16,32))"])
    names = sorted(config_files(out))
    assert len(names) == 8
    assert "bc_rnn_hyper_plr_0.001_gmm_t_rnnd_1000_mlp_0_bs_32.json" in names


def test_command_line_sweep_of_a_file_key_replaces_it_in_place(tmp_path):
    out = emit(tmp_path, ["sweep=bc_rnn_hyper",
                          "algo.optim_params.policy.learning_rate.initial=tag(group:1,name:lr,choice(1e-5))"])
    assert sorted(config_files(out))[0] == "bc_rnn_hyper_lr_1e-05_gmm_f_rnnd_1000_mlp_0.json"


def test_fixed_overrides_apply_to_every_run(tmp_path):
    out = emit(tmp_path, ["sweep=bc_rnn_hyper", "train.batch_size=64", "algo.gmm.num_modes=7"])
    for text in config_files(out).values():
        config = json.loads(text)
        assert config["train"]["batch_size"] == 64 and config["algo"]["gmm"]["num_modes"] == 7


def test_without_dash_m_the_app_still_sweeps_and_leaves_no_outputs_folder(tmp_path):
    import subprocess
    import sys

    from tests.helpers import RUN_PY

    proc = subprocess.run([sys.executable, RUN_PY, "sweep=bc_rnn_hyper", "hydra.sweep.dir=sd"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "sd" / "configs").glob("*.json"))) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sd"]  # no stray outputs/ folder
    # Hydra's record of the sweep, as run mode leaves it: the report finds where run.sh trains.
    assert OmegaConf.load(tmp_path / "sd" / "multirun.yaml").hydra.runtime.cwd == str(tmp_path)


def test_prepend_hidename_and_extra_args_reach_the_files(tmp_path):
    out = emit(tmp_path, ["sweep=bc_rnn_hyper", "train.seed=tag(name:seed,prepend,choice(1,2))",
                          "train.batch_size=tag(name:bs,hidename,choice(64))",
                          "launch.extra_args=\"--eval_only --note 'a b'\""])
    commands = [line for line in script_lines(out) if line.startswith("python")]
    assert len(commands) == 16
    assert commands[0] == ("python train.py --config <dir>/bc_rnn_hyper_seed_1_plr_0.001_gmm_t_rnnd_400_mlp_1024.json"
                           " --eval_only --note 'a b'")
    config = json.loads((out / "bc_rnn_hyper_seed_2_plr_0.0001_gmm_f_rnnd_1000_mlp_0.json").read_text())
    assert config["train"]["batch_size"] == 64
    assert config["meta"]["hp_keys"] == ["seed", "plr", "gmm", "rnnd", "mlp", "bs"]
