"""Each bad input is refused with a message naming the culprit, and nothing is written.

Most cases run in this process against the planning, checking and writing
functions (milliseconds each); a few go through ``launcher/run.py`` to prove the
wiring: no traceback, a non-zero exit, nothing written.
"""
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from launcher.core.errors import SweepError
from launcher.modes import write_script
from launcher.request.planning import make_plan
from launcher.run_mode.launch import HydraJobs, launch_sweep
from tests.helpers import REPO, make_request, robomimic_default, run_app_failing


def p(key, name, group, values, **kw):
    return {"key": key, "name": name, "group": group, "values": values, **kw}


def refuse(tmp_path: Path, *fragments: str, mode: str = "script", **request: Any) -> str:
    """Plan, check and write ``request`` in this process; it must fail and write nothing."""
    before = sorted(tmp_path.rglob("*"))
    req = make_request(tmp_path, mode=mode, **request)
    with pytest.raises(SweepError) as err:
        plan = make_plan(req)
        if mode == "run":
            launch_sweep(plan, req.options, tmp_path, HydraJobs(None, tmp_path / "sd", None, "", lambda f: None),
                         req.robomimic)
        else:
            write_script(plan, req, tmp_path / "sd")
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert sorted(tmp_path.rglob("*")) == before, "the refused sweep left something behind"
    return message


# -- the sweep itself -------------------------------------------------------------------

CATALOGUE = [
    pytest.param(dict(params=[p("algo.rnn.hidden_dim", "rnnd", 3, [400, 1000]),
                              p("algo.actor_layer_dims", "mlp", 3, [[1], [2], [3]])]),
                 ["group 3", "algo.rnn.hidden_dim has 2", "algo.actor_layer_dims has 3"], id="unequal-group"),
    pytest.param(dict(params=[p("algo.gmm.enabled", "gmm", 0, [True, False], value_names=["t", "f", "x"])]),
                 ["sweep.params[0]", "3 value_names for 2 values"], id="value-names-count"),
    pytest.param(dict(params=[p("train.seed", "seed", 0, 5)]), ["sweep.params[0]", "'values' must be a list"],
                 id="values-not-a-list"),
    pytest.param(dict(), ["the sweep is empty"], id="empty-sweep"),
    pytest.param(dict(sweep_file={"foo": 1}), ["no 'params'"], id="sweep-file-without-params"),
    pytest.param(dict(sweep_file={"params": [], "parms": []}), ["unknown top-level field", "parms"],
                 id="unknown-sweep-file-field"),
    pytest.param(dict(params=[p("train.batch_sizee", "bs", 0, [1, 2])]),
                 ["sweep.params[0]", "'train.batch_sizee' is not a key of the installed robomimic 0.3.0's bc config",
                  "did you mean 'train.batch_size'"], id="unknown-key-in-file"),
    pytest.param(dict(cli=["algo.optim_params.policy.learning_rate.intial=1e-3,1e-4"]),
                 ["'algo.optim_params.policy.learning_rate.intial' is not a key",
                  "did you mean 'algo.optim_params.policy.learning_rate.initial'"], id="unknown-key-on-command-line"),
    pytest.param(dict(cli=["train.batch_size=16.5,32"]), ["'train.batch_size' must be an int", "got 16.5"],
                 id="float-for-int"),
    pytest.param(dict(cli=["algo.gmm.enabled=1,0"]), ["'algo.gmm.enabled' must be a bool"], id="int-for-bool"),
    pytest.param(dict(cli=["algo.actor_layer_dims=64,128"]), ["'algo.actor_layer_dims' must be a list"],
                 id="int-for-list"),
    pytest.param(dict(cli=["train.hdf5_cache_mode=1,2"]), ["'train.hdf5_cache_mode' must be a string"],
                 id="int-for-string"),
    pytest.param(dict(params=[p("train.seed", "seed", 0, [1, 2]), p("train/seed", "s", 1, [3])]),
                 ["sweep.params[1]", "'train/seed' is already swept by sweep.params[0]",
                  "robomimic would silently keep only the last"], id="same-key-twice"),
    pytest.param(dict(params=[p("train.seed", "seed", 0, [1])], fixed_lines=["+train.bogus=1"]),
                 ["'+train.bogus=1'", "not a key"], id="unknown-key-forced"),
    pytest.param(dict(params=[p("train.seed", "seed", 0, [1, 2])], fixed={"train.seed": 3}),
                 ["fixes 'train.seed', which the sweep varies"], id="fixing-a-swept-key"),
]


@pytest.mark.parametrize("request_args, fragments", CATALOGUE)
def test_bad_sweeps(tmp_path, request_args, fragments):
    refuse(tmp_path, *fragments, **request_args)


@pytest.mark.parametrize(
    "params, fragments",
    [
        pytest.param([p("train.seed", "seed", 0, [1]), p("train.batch_size", "", 1, [16, 32])],
                     ["two runs would both be named 'test_seed_1'", "train.batch_size=16", "train.batch_size=32",
                      "give 'train.batch_size' a non-empty name"], id="colliding-names"),
        pytest.param([p("train.hdf5_filter_key", "k", 0, ["a/b", "c"])], ["contains '/'"], id="slash-in-name"),
        pytest.param([p("train.seed", "k", 0, [1, 2], value_names=["x" * 300, "y"])], ["longer than 250 bytes"],
                     id="name-too-long"),
        pytest.param([p("train.seed", "", 0, [1])], ["run name 'test' "], id="script-named-like-a-config"),
    ],
)
def test_bad_run_names(tmp_path, params, fragments):
    extra = {}
    if fragments[0].startswith("run name 'test'"):
        # launch.script_file would be the config of run "test"
        extra = dict(script_file=str(tmp_path / "sd" / "configs" / "test.json"))
        fragments = ["launch.script_file is test.json in launch.config_dir, the config of run test"]
    refuse(tmp_path, *fragments, params=params, **extra)


def test_a_250_byte_name_is_written_whole(tmp_path):
    """The longest name the check lets through fits the file system, temporary names included."""
    name = "n" * (250 - len("test_k_"))
    out = make_request(tmp_path, params=[p("train.seed", "k", 0, [1], value_names=[name])])
    write_script(make_plan(out), out, tmp_path / "sd")
    assert [f.name for f in (tmp_path / "sd" / "configs").iterdir()] == [f"test_k_{name}.json"]


# -- base JSON ----------------------------------------------------------------------------

def _base(tmp_path: Path, text: Optional[str] = None, raw: Optional[bytes] = None, config: Optional[Dict] = None) -> str:
    path = tmp_path / "base.json"
    if config is not None:
        text = json.dumps(config)
    if raw is not None:
        path.write_bytes(raw)
    elif text is not None:
        path.write_text(text)
    return str(path)


def _bc_with(**changes: Any) -> Dict[str, Any]:
    config = robomimic_default("bc")
    for section, values in changes.items():
        config[section].update(values)
    return config


@pytest.mark.parametrize(
    "make, fragments",
    [
        pytest.param(lambda t: str(t / "nope.json"), ["no such file", "nope.json"], id="missing"),
        pytest.param(lambda t: (t / "adir.json").mkdir() or str(t / "adir.json"), ["cannot read", "adir.json"],
                     id="a-folder"),
        pytest.param(lambda t: _base(t, '{\n  "algo_name": "bc",\n  "train": {"seed": 1,}\n}\n'),
                     ["base.json is not valid JSON", "line 3, column"], id="invalid-json"),
        pytest.param(lambda t: _base(t, raw=b'{"algo_name": "bc", "x": "\xff\xfe"}'), ["not UTF-8", "base.json"],
                     id="not-utf8"),
        pytest.param(lambda t: _base(t, config={"algo_name": "bc_transformer", "experiment": {"name": "x"}}),
                     ["'bc_transformer' is not an algorithm of the installed robomimic 0.3.0", "td3_bc"],
                     id="unknown-algo"),
        pytest.param(lambda t: _base(t, config={"experiment": {"name": "x"}}), ["has no 'algo_name'"], id="no-algo"),
        pytest.param(lambda t: _base(t, config=_bc_with(train={"hdf5_cache_modes": "all"})),
                     ["'train.hdf5_cache_modes' is not a key", "did you mean 'train.hdf5_cache_mode'"],
                     id="unknown-key"),
        pytest.param(lambda t: _base(t, config={"algo_name": "bc", "train": {"seed": 1}}),
                     ["'experiment.name' must be a string, got None"], id="no-experiment-name"),
        pytest.param(lambda t: _base(t, "[1, 2]"), ["must hold a JSON object, not list"], id="not-an-object"),
    ],
)
def test_bad_base_json(tmp_path, make, fragments):
    refuse(tmp_path, *fragments, base_config=make(tmp_path), params=[p("train.seed", "seed", 0, [1, 2])])


# -- targets and launch options -------------------------------------------------------------

def test_config_dir_that_is_a_file(tmp_path):
    (tmp_path / "configs").write_text("x")
    refuse(tmp_path, "launch.config_dir", "is a file, not a folder", params=[p("train.seed", "s", 0, [1])],
           config_dir=str(tmp_path / "configs"))
    assert (tmp_path / "configs").read_text() == "x"


def test_script_file_that_is_a_folder(tmp_path):
    (tmp_path / "sd" / "run.sh").mkdir(parents=True)
    with pytest.raises(SweepError, match="launch.script_file: .*run.sh is a folder"):
        req = make_request(tmp_path, params=[p("train.seed", "s", 0, [1])])
        write_script(make_plan(req), req, tmp_path / "sd")
    assert not (tmp_path / "sd" / "configs").exists()


@pytest.mark.parametrize(
    "launch, fragment",
    [
        ({"mode": "train"}, "launch.mode must be one of script, run, list"),
        ({"timeout_min": -1}, "launch.timeout_min must be a positive number"),
        ({"gpus": "all"}, "launch.gpus must be a list of device ids"),
        ({"gpus": [0, 0]}, "launch.gpus lists a device twice"),
        ({"runs_per_gpu": 0}, "launch.runs_per_gpu must be an int from 1 to 64"),
        ({"runs_per_gpu": 20000, "mode": "run"}, "launch.runs_per_gpu must be an int from 1 to 64, got 20000"),
        ({"gpus": [], "mode": "run"}, "launch.gpus=[] names no device; drop launch.gpus"),
        ({"gpus": [0, 1]}, "launch.gpus assigns GPUs to run mode's trainings (launch.mode=run)"),
        ({"extra_args": "--a 'b"}, "launch.extra_args: cannot split"),
        ({"resume": "yes"}, "launch.resume must be auto, true or false; got 'yes'"),
        ({"max_requeues": -1}, "launch.max_requeues must be a whole number, 0 or more; got -1"),
        ({"detach": "yes"}, "launch.detach must be true or false"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else None,
)
def test_bad_launch_options(tmp_path, launch, fragment):
    with pytest.raises(SweepError, match=re.escape(fragment)):
        make_request(tmp_path, params=[p("train.seed", "s", 0, [1])], **launch)


# -- run mode: what would make every run fail ---------------------------------------------

@pytest.mark.parametrize(
    "data, fragment",
    [
        pytest.param(None, "train.data is not set", id="null"),
        pytest.param("FOLDER", "is a folder, not an hdf5 file", id="a-folder"),
        pytest.param("gone.hdf5", "gone.hdf5 does not exist", id="missing"),
    ],
)
def test_run_mode_needs_a_dataset_file(tmp_path, data, fragment):
    if data == "FOLDER":
        (tmp_path / "datadir").mkdir()
        data = str(tmp_path / "datadir")
    (tmp_path / "train.py").write_text("")
    refuse(tmp_path, fragment, mode="run", params=[p("train.seed", "s", 0, [1, 2])],
           fixed={"train.data": data, "train.output_dir": str(tmp_path / "trained")},
           train_script=str(tmp_path / "train.py"))
    assert not (tmp_path / "trained").exists()


def test_run_mode_needs_the_train_script(tmp_path):
    (tmp_path / "data.hdf5").write_bytes(b"x")
    refuse(tmp_path, "launch.train_script", "nope.py does not exist", mode="run",
           params=[p("train.seed", "s", 0, [1])], fixed={"train.data": str(tmp_path / "data.hdf5")},
           train_script="nope.py")


@pytest.mark.parametrize("launch, fragment", [
    ({"detach": True}, "launch.detach=true returns once the runs are submitted to a queue, and needs one "
                       "(hydra/launcher=submitit_slurm or robomimic_slurm)"),
    ({"resume": True}, "takes no --resume (robomimic's train.py takes it from 0.5 on); use launch.resume=auto or "
                       "false"),
])
def test_run_mode_options_that_cannot_work_here_are_refused_before_anything_runs(tmp_path, launch, fragment):
    (tmp_path / "data.hdf5").write_bytes(b"x")
    (tmp_path / "train.py").write_text("print('finished run successfully!')\n")
    req = make_request(tmp_path, mode="run", params=[p("train.seed", "s", 0, [1])], train_script="train.py",
                       fixed={"train.data": str(tmp_path / "data.hdf5"), "train.output_dir": str(tmp_path / "out")},
                       **launch)
    with pytest.raises(SweepError, match=re.escape(fragment)):
        launch_sweep(make_plan(req), req.options, tmp_path, HydraJobs(None, tmp_path / "sd", None, "", lambda f: None),
                     req.robomimic)
    assert not (tmp_path / "out").exists() and not (tmp_path / "sd").exists(), "nothing written, nothing trained"


def test_max_batch_size_below_one_is_refused(tmp_path):
    (tmp_path / "data.hdf5").write_bytes(b"x")
    req = make_request(tmp_path, mode="run", params=[p("train.seed", "s", 0, [1])],
                       fixed={"train.data": str(tmp_path / "data.hdf5")})
    with pytest.raises(SweepError, match="max_batch_size must be at least 1, got -1"):
        launch_sweep(make_plan(req), req.options, tmp_path, HydraJobs(None, tmp_path / "sd", -1, "", lambda f: None),
                     req.robomimic)


# -- through launcher/run.py: no traceback, non-zero exit, nothing written ------------------

@pytest.mark.parametrize(
    "files, args, fragment",
    [
        pytest.param({"sweep/bad.yaml": "params:\n  - key: train.seed\n    values: [1, 2\n"}, ["sweep=bad"],
                     "is not valid YAML", id="malformed-sweep-yaml"),
        pytest.param({"sweep/i.yaml": "params:\n  - {key: train.seed, name: s, group: 0, values: [1, '${nope}']}\n"},
                     ["sweep=i"], "sweep.params[0].values[1]: Interpolation key 'nope' not found",
                     id="unresolved-interpolation"),
        pytest.param({}, ["-m", "--cfg", "job"], "cannot be combined", id="dash-m-with-cfg"),

        pytest.param({}, ["launch.tmeout_min=3", "train.seed=1,2"], "Key 'tmeout_min' not in 'LaunchConf'",
                     id="unknown-launch-option"),
        pytest.param({}, ["train.seed=1,2", "launch.mode=run", "train.data=gone.hdf5",
                          f"launch.train_script={REPO / 'train_stub.py'}"], "gone.hdf5 does not exist",
                     id="run-mode-missing-dataset"),
    ],
)
def test_end_to_end_refusals(tmp_path, files, args, fragment):
    (tmp_path / "user_conf").mkdir()
    for name, text in files.items():
        (tmp_path / "user_conf" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "user_conf" / name).write_text(text)
    proc = run_app_failing(["--config-dir", str(tmp_path / "user_conf"), f"hydra.sweep.dir={tmp_path / 'sd'}",
                            *args], cwd=tmp_path, dash_m=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert fragment in proc.stderr, proc.stderr
    assert not (tmp_path / "sd").exists()
    assert sorted(os.listdir(tmp_path)) == ["user_conf"]


@pytest.mark.parametrize("argv, message", [
    pytest.param(["--cfg", "job", "train.seed=1,2"],
                 "--cfg shows one composed config, and train.seed=1,2 sweeps: to see every run of the sweep, drop "
                 "--cfg and add launch.mode=list; to see one run's config, give each swept key one value",
                 id="cfg-with-a-sweep"),
    pytest.param(["-m", "--info", "--config-dir", "a=b", "train.seed=range(3)", "train.batch_size=8"],
                 "--info shows one composed config, and train.seed=range(3) sweeps: to see every run of the sweep, "
                 "drop -m and --info and add launch.mode=list; to see one run's config, give each swept key one value",
                 id="dash-m-info-with-a-sweep"),
    pytest.param(["--cfg", "job", "train.seed=1"], None, id="cfg-of-one-run"),
])
def test_showing_the_config_of_a_sweep_says_what_to_do_instead(argv, message):
    """Not Hydra's "add --multirun", which this app would refuse in turn with --cfg."""
    from launcher.request.command_line import check_command_line
    from launcher.run import CONF

    assert check_command_line(argv, CONF) == message


@pytest.mark.parametrize("override", ["hydra/sweeper=basic", "+hydra/sweeper=basic"])
def test_another_sweeper_is_refused_before_any_job_runs(override):
    """Hydra's basic sweeper would run a job per value, each failing with advice about -m."""
    from launcher.request.command_line import check_command_line
    from launcher.run import CONF

    assert check_command_line([override, "train.seed=1,2"], CONF) == (
        "hydra/sweeper=basic: this app sweeps with its own sweeper (hydra/sweeper=robomimic, the default), which "
        "names the runs and writes their robomimic configs; drop hydra/sweeper=basic")
    assert check_command_line(["hydra/sweeper=robomimic", "train.seed=1,2"], CONF) is None
