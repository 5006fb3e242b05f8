"""``launch.mode=list``: the dry run. The sweep is checked as for script mode, each run
is printed (index, name, the values that vary), then the count; nothing is written.
And every mode says how many runs ``exclude`` dropped."""
import subprocess
import sys
import types

import pytest

from launcher import modes
from launcher.core.errors import SweepError
from launcher.robomimic.selection import select
from tests.helpers import RUN_PY, make_request

# The installed robomimic (0.3.0 in the tests), as every mode names it.
CHECKED = f"checked against robomimic 0.3.0 installed at {select('auto').folder}"

SWEEP = {
    "params": [
        {"key": "algo.rnn.enabled", "name": "", "group": 0, "values": [True]},
        {"key": "algo.optim_params.policy.learning_rate.initial", "name": "plr", "group": 1, "values": [1e-3, 1e-4]},
        {"key": "algo.gmm.enabled", "name": "gmm", "group": 2, "values": [True, False], "value_names": ["t", "f"]},
        {"key": "algo.actor_layer_dims", "name": "mlp", "group": 2, "values": [[64, 64], []]},
    ],
    "exclude": [{"algo.optim_params.policy.learning_rate.initial": 1e-4, "algo.gmm.enabled": False}],
}


def run_mode(tmp_path, capsys, mode, sweep=SWEEP):
    request = make_request(tmp_path, sweep_file=sweep, mode=mode)
    modes.run(request, types.SimpleNamespace(sweep_dir=tmp_path / "sd", save_config=lambda folder: None))
    return capsys.readouterr().out


def test_list_prints_each_run_its_values_and_the_count_and_writes_nothing(tmp_path, capsys):
    out = run_mode(tmp_path, capsys, "list")
    assert out.splitlines() == [
        "Excluded 1 of 4 runs (exclude)",
        "every run: algo.rnn.enabled=true",
        "0  test_plr_0.001_gmm_t_mlp_64_64  algo.optim_params.policy.learning_rate.initial=0.001, "
        "algo.gmm.enabled=true, algo.actor_layer_dims=[64, 64]",
        "1  test_plr_0.001_gmm_f_mlp  algo.optim_params.policy.learning_rate.initial=0.001, "
        "algo.gmm.enabled=false, algo.actor_layer_dims=[]",
        "2  test_plr_0.0001_gmm_t_mlp_64_64  algo.optim_params.policy.learning_rate.initial=0.0001, "
        "algo.gmm.enabled=true, algo.actor_layer_dims=[64, 64]",
        f"3 runs (launch.mode=list: nothing written; {CHECKED})",
    ]
    assert list(tmp_path.iterdir()) == []


def test_script_mode_says_how_many_runs_exclude_dropped(tmp_path, capsys):
    out = run_mode(tmp_path, capsys, "script")
    assert out.splitlines()[0] == "Excluded 1 of 4 runs (exclude)"
    assert len(list((tmp_path / "sd" / "configs").glob("*.json"))) == 3


def test_without_exclude_nothing_is_said_about_it(tmp_path, capsys):
    out = run_mode(tmp_path, capsys, "list", {"params": SWEEP["params"]})
    assert "Excluded" not in out and out.splitlines()[-1] == f"4 runs (launch.mode=list: nothing written; {CHECKED})"


@pytest.mark.parametrize("params, fragment", [
    pytest.param([{"key": "train.seed", "name": "", "group": 0, "values": [1, 2]}], "two runs would both be named",
                 id="colliding-names"),
    pytest.param([{"key": "train.sed", "name": "s", "group": 0, "values": [1]}], "did you mean 'train.seed'",
                 id="unknown-key"),
])
def test_list_checks_the_sweep_as_script_mode_does(tmp_path, capsys, params, fragment):
    with pytest.raises(SweepError, match=fragment):
        run_mode(tmp_path, capsys, "list", {"params": params})
    assert capsys.readouterr().out == "" and list(tmp_path.iterdir()) == []


def test_list_from_the_command_line_creates_no_folder(tmp_path):
    proc = subprocess.run([sys.executable, RUN_PY, "sweep=bc_rnn_hyper", "launch.mode=list",
                           "train.seed=tag(name:seed,prepend,choice(1,2))"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "every run: algo.rnn.enabled=true, train.seq_length=10, algo.rnn.horizon=10"
    assert lines[1].startswith(" 0  test_seed_1_plr_0.001_gmm_t_rnnd_400_mlp_1024  train.seed=1, ")
    assert lines[-1] == f"16 runs (launch.mode=list: nothing written; {CHECKED})"
    assert list(tmp_path.iterdir()) == []


def test_list_piped_into_head_stops_quietly(tmp_path):
    """`launch.mode=list | head -1`: the reader leaves early; no traceback, exit 0."""
    proc = subprocess.Popen([sys.executable, RUN_PY, "launch.mode=list", "train.seed=range(1,5001)"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait() == 0, stderr
    assert first.startswith(b"   0  test_seed_1  train.seed=1") and "Traceback" not in stderr
