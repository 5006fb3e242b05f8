"""Every robomimic people train with: 0.3.0, 0.5.0, master, the robocasa and dexmimicgen
branches, and a fork with an algorithm of its own (issue 16).

The expectations come from robomimic: the installed 0.3.0's own ``config_factory`` and
``ConfigGenerator``, run live; the other trees' generators' recorded output
(``tests/data/generators/``, by ``python -m tools.generator_oracles``) on each tree's own
defaults and templates, with whether robomimic itself could load each template
(``tests/data/robomimic_templates/index.json``); and the facts measured on each tree's
train.py (/work/research/robomimic/REPORT.md), typed in below.
"""
import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from launcher import modes
from launcher.core.errors import SweepError
from launcher.request.planning import make_plan
from launcher.robomimic import installed, schema_file, selection, versions
from launcher.robomimic.paths import check_dataset
from tests.helpers import RUN_PY, config_files, emit_robomimic, make_request, script_lines
from tests.test_generators import TRAIN_PY, Oracle, assert_writes_oracle, masked, with_dir
from tools.generator_oracles import TEMPLATES_DIR, make_base
from tools.refresh_conf import record_installed

DATA = Path(__file__).parent / "data"
VERSION_CASES = json.loads((DATA / "generator_version_cases.json").read_text())
TEMPLATES = json.loads((TEMPLATES_DIR / "index.json").read_text())
SEEDS = ["train.seed=1,2"]  # the sweep: each tree's own config as base_config, two seeds


# -- the recorded schemas ------------------------------------------------------------------

def test_bundled_0_3_0_is_what_refresh_records_from_the_installed_robomimic():
    """launcher/robomimic/schemas/0.3.0.json has not drifted from robomimic 0.3.0 itself."""
    _, recorded = record_installed("0.3.0")
    shipped = schema_file.read(str(versions.SCHEMAS / "0.3.0.json"))
    for document in (recorded, shipped):
        document["robomimic"].pop("recorded_from")
    assert schema_file.text(shipped) == schema_file.text(recorded)


@pytest.mark.parametrize("name", versions.BUNDLED)
def test_bundled_schemas_round_trip_key_order_included(name):
    document = versions.bundled(name).document
    assert schema_file.pack(schema_file.unpack(document), document["robomimic"], document["profile"]) == document


@pytest.mark.parametrize("algo", versions.bundled("0.3.0").algorithms())
def test_output_dir_default_is_robomimics_rule_in_every_robomimic(algo):
    from launcher.robomimic.paths import output_dir_setting

    for name in versions.BUNDLED:
        if algo in versions.bundled(name).algorithms():
            assert versions.bundled(name).defaults(algo)["train"]["output_dir"] == output_dir_setting(None, algo)


# What each tree's train.py and generator do (measured; REPORT.md sections 2, 3 and 5; data_as_list: its
# train.py rewrites a string train.data as [{"path": ...}], 0.5.0 lines 78-80, master lines 78-81).
MEASURED = {
    "0.3.0": dict(family="0.3.0", data="path", data_as_list=False, resume=None, last_checkpoint=False,
                  generator="0.3.0"),
    "0.5.0": dict(family="0.5.0", data="path_or_list", data_as_list=True, resume="only_folder", last_checkpoint=True,
                  generator="master"),
    "master": dict(family="master", data="path_or_list", data_as_list=True, resume="latest_folder",
                   last_checkpoint=True, generator="master"),
    "robocasa": dict(family="robocasa", data="list", data_as_list=False, resume=None, last_checkpoint=False,
                     generator="robocasa"),
    "dexmimicgen": dict(family="dexmimicgen", data="path_or_list", data_as_list=False, resume="only_folder",
                        last_checkpoint=True, generator="master"),
}


@pytest.mark.parametrize("name", versions.BUNDLED)
def test_each_bundled_robomimic_has_the_semantics_measured_on_its_tree(name):
    profile = versions.bundled(name).profile
    assert {key: getattr(profile, key) for key in MEASURED[name]} == MEASURED[name]
    assert ("--resume" in profile.train_args) == (profile.resume is not None)


# -- the table: every tree's own configs accepted, byte-equal to its generator -------

def run_dir_for(tmp_path: Path, monkeypatch: Any) -> Path:
    (tmp_path / "home" / "tmp").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_script_mode(request: Any) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        modes.write_script(make_plan(request), request, request.cwd / "sd")
    return out.getvalue()


@pytest.mark.parametrize("case", VERSION_CASES, ids=[case["id"] for case in VERSION_CASES])
def test_every_trees_own_configs_are_written_as_its_generator_writes(tmp_path, monkeypatch, case):
    """0.5.0, master, robocasa, dexmimicgen: each algorithm's defaults and each template that
    robomimic loads, swept over train.seed=1,2, with no naming or wandb option given."""
    run_dir = run_dir_for(tmp_path, monkeypatch)
    generator = case["generators"][0]
    folder = DATA / "generators" / generator / case["id"]
    oracle = Oracle(generator, case, json.loads((folder / "calls.json").read_text()),
                    {p.name: p.read_text() for p in sorted((folder / "configs").glob("*.json"))},
                    (folder / "script.sh").read_text())
    (run_dir / "base.json").write_text(json.dumps(make_base(case), indent=4))
    script_file = Path(with_dir(oracle.calls["script_file"], run_dir))
    request = make_request(run_dir, base_config="base.json", cli=SEEDS, robomimic=case["robomimic"],
                           wandb_proj_name=None, config_dir=with_dir(oracle.config_dir, run_dir),
                           script_file=str(script_file), train_script=TRAIN_PY)
    said = write_script_mode(request)
    assert f"(checked against {versions.bundled(case['robomimic']).title}, bundled schema)" in said
    assert_writes_oracle(request.options.config_dir, masked(script_file.read_text(), run_dir), oracle)


ZERO_THREE = [pytest.param({"robomimic": "0.3.0", "algo": algo}, id=f"0.3.0-{algo}")
              for algo in selection.select("auto").algorithms()]
ZERO_THREE += [pytest.param({"template": entry["file"]}, id=f"0.3.0-{path}")
               for path, entry in TEMPLATES["0.3.0"]["templates"].items() if not entry["equals_defaults"]]


@pytest.mark.parametrize("base", ZERO_THREE)
def test_0_3_0s_own_configs_are_written_as_its_generator_writes(tmp_path, base):
    """0.3.0 (and 0.4.0, the same config code): robomimic 0.3.0's ConfigGenerator, live."""
    base_file = tmp_path / "base" / "base.json"
    base_file.parent.mkdir()
    base_file.write_text(json.dumps(make_base({"base": base}), indent=4))
    theirs = emit_robomimic(base_file, [{"key": "train.seed", "name": "seed", "group": 0, "values": [1, 2]}],
                            tmp_path / "theirs")
    request = make_request(tmp_path, base_config=str(base_file), cli=SEEDS, wandb_proj_name=None,
                           config_dir=str(tmp_path / "ours"), script_file=str(tmp_path / "ours" / "out.sh"))
    write_script_mode(request)
    ours = tmp_path / "ours"
    assert config_files(ours) == config_files(theirs)
    assert [line.split(" ")[-1].rsplit("/", 1)[-1] for line in script_lines(ours)[2:]] == \
        [line.split(" ")[-1].rsplit("/", 1)[-1] for line in script_lines(theirs)[2:]]


@pytest.mark.parametrize("name", ["0.5.0", "master"])
def test_a_template_robomimic_cannot_load_is_refused_naming_its_key(tmp_path, name):
    """v0.5.0's exps/templates/bc_transformer.json carries experiment.mse, which its own
    train.py rejects (recorded: robomimic's error when it loaded the template)."""
    entry = TEMPLATES[name]["templates"]["exps/templates/bc_transformer.json"]
    assert "'mse' does not exist" in entry["error"]
    with pytest.raises(SweepError) as err:
        make_plan(make_request(tmp_path, base_config=str(TEMPLATES_DIR / entry["file"]), cli=SEEDS, robomimic=name))
    assert f"'experiment.mse' is not a key of robomimic {name}'s bc config" in str(err.value)
    assert "robomimic's robocasa branch has it: launch.robomimic=robocasa" in str(err.value)


# -- checks that know the robomimic -------------------------------------------------------

@pytest.mark.parametrize("name, key, fragment", [
    pytest.param("0.5.0", "experiment.mse.enabled", "robomimic's robocasa branch has it: launch.robomimic=robocasa",
                 id="robocasa-only-key-under-0.5.0"),
    pytest.param("robocasa", "experiment.rollout.mode", "robomimic's dexmimicgen branch has it: "
                 "launch.robomimic=dexmimicgen", id="dexmimicgen-only-key-under-robocasa"),
    pytest.param("0.3.0", "train.action_keys", "robomimic 0.5.0, robomimic master, robomimic's robocasa branch and "
                 "robomimic's dexmimicgen branch have it: launch.robomimic=0.5.0 or master or robocasa or dexmimicgen",
                 id="a-0.5-key-under-0.3.0"),
    pytest.param("master", "train.batch_sise", "did you mean 'train.batch_size'?", id="a-typo-gets-a-suggestion"),
])
def test_a_key_the_robomimic_lacks_is_refused_naming_who_has_it(tmp_path, name, key, fragment):
    with pytest.raises(SweepError) as err:
        make_plan(make_request(tmp_path, cli=[f"{key}=1,2"], robomimic=name))
    assert fragment in str(err.value)


def test_an_algorithm_the_robomimic_lacks_names_the_robomimics_that_have_it(tmp_path):
    with pytest.raises(SweepError) as err:
        versions.bundled("0.5.0").schema("act", "algo_name")
    assert str(err.value) == (
        "algo_name: algo_name 'act' is not an algorithm of robomimic 0.5.0; choose one of bc, bcq, cql, iql, gl, "
        "hbc, iris, td3_bc, diffusion_policy; robomimic's robocasa branch has it: launch.robomimic=robocasa")


def test_plain_dict_entries_are_open_as_robomimic_merges_them(tmp_path):
    """train.action_config is a plain dict in 0.5+: Config.update adds or replaces its entries."""
    plan = make_plan(make_request(tmp_path, robomimic="master", cli=["train.action_config.actions.format=rot_6d,a"],
                                  fixed_lines=["+train.action_config.gripper.normalization=null"]))
    assert plan.count_runs() == (2, 2)


DATASETS = [{"path": "a.hdf5"}, {"path": "b.hdf5", "weight": 2.0}]


def base_with(tmp_path: Path, name: str, **train: Any) -> str:
    """That robomimic's bc defaults with ``train`` values, as a base JSON."""
    config = versions.bundled(name).defaults("bc")
    config["train"].update(train)
    path = tmp_path / f"{name}_bc.json"
    path.write_text(json.dumps(config, indent=4))
    return str(path)


@pytest.mark.parametrize("name, data, fragment", [
    pytest.param("0.3.0", [{"path": "a.hdf5"}], "robomimic 0.3.0's train.py reads one dataset path and crashes on a "
                 "list", id="0.3.0-list"),
    pytest.param("robocasa", "a.hdf5", "robomimic's robocasa branch's train.py reads a list of datasets and crashes "
                 "on a string", id="robocasa-string"),
    pytest.param("0.5.0", [{"weight": 1.0}], "train.data[0] must be a dataset with a 'path' string", id="no-path"),
    pytest.param("master", ["a.hdf5"], "train.data[0] must be a dataset with a 'path' string", id="list-of-paths"),
    pytest.param("master", DATASETS, "train.data lists 2 datasets with train.hdf5_cache_mode=all", id="cache-all"),
    pytest.param("robocasa", DATASETS, "train.data lists 2 datasets with train.hdf5_cache_mode=all",
                 id="robocasa-cache-all"),
])
def test_train_data_is_refused_where_that_train_py_would_crash(tmp_path, name, data, fragment):
    with pytest.raises(SweepError) as err:
        make_plan(make_request(tmp_path, base_config=base_with(tmp_path, name, data=data), cli=SEEDS, robomimic=name))
    assert fragment in str(err.value)


@pytest.mark.parametrize("name, data, cache", [
    pytest.param("0.3.0", "a.hdf5", "all", id="0.3.0-one-path"),
    pytest.param("0.5.0", "a.hdf5", "all", id="0.5.0-one-path"),
    pytest.param("0.5.0", DATASETS, "low_dim", id="0.5.0-two-datasets"),
    pytest.param("master", [{"path": "a.hdf5"}], "all", id="master-one-dataset-cached"),
    pytest.param("robocasa", DATASETS[:1], "all", id="robocasa-one-dataset"),
    pytest.param("dexmimicgen", DATASETS, "low_dim", id="dexmimicgen-two-datasets"),
])
def test_train_data_as_that_train_py_reads_it_is_accepted(tmp_path, name, data, cache):
    base = base_with(tmp_path, name, data=data, hdf5_cache_mode=cache)
    plan = make_plan(make_request(tmp_path, base_config=base, cli=SEEDS, robomimic=name))
    assert plan.count_runs() == (2, 2)


def test_a_swept_cache_mode_refuses_only_the_runs_that_cache_all(tmp_path):
    with pytest.raises(SweepError, match=r"run test_cache_all: train.data lists 2 datasets"):
        make_plan(make_request(tmp_path, base_config=base_with(tmp_path, "0.5.0", data=DATASETS), robomimic="0.5.0",
                               cli=["train.hdf5_cache_mode=tag(name:cache,choice(low_dim,all))"]))


def test_run_mode_names_the_missing_dataset_of_a_list(tmp_path):
    (tmp_path / "a.hdf5").write_bytes(b"x")
    with pytest.raises(SweepError, match=r"train.data\[1\]: b.hdf5 does not exist \(run r\)"):
        check_dataset(DATASETS, tmp_path, "r")
    (tmp_path / "b.hdf5").write_bytes(b"x")
    check_dataset(DATASETS, tmp_path, "r")


@pytest.mark.parametrize("name, expected", [("0.3.0", ("test_seed_1", "debug")), ("master", ("test_seed_1", "base")),
                                            ("robocasa", ("test_seed_1", "debug"))])
def test_naming_and_wandb_defaults_follow_the_robomimics_generator(tmp_path, name, expected):
    """0.3.0's and robocasa's generators write wandb_proj_name "debug"; master's leaves the base's."""
    request = make_request(tmp_path, robomimic=name, cli=SEEDS, wandb_proj_name=None,
                           fixed={"experiment.logging.wandb_proj_name": "base"})
    plan = make_plan(request)
    name_1, choice = next(plan.runs())
    assert (name_1, plan.run_config(name_1, choice)["experiment"]["logging"]["wandb_proj_name"]) == expected


def test_an_empty_base_name_starts_with_underscore_only_under_0_3_0(tmp_path):
    names = {name: next(make_plan(make_request(tmp_path, robomimic=name, cli=SEEDS,
                                               fixed={"experiment.name": ""})).runs())[0]
             for name in ("0.3.0", "master", "dexmimicgen")}
    assert names == {"0.3.0": "_seed_1", "master": "seed_1", "dexmimicgen": "seed_1"}


# -- which robomimic: auto, installed, a fork ----------------------------------------------

FORK_CONFIG = '''
from robomimic.config.base_config import BaseConfig


class LabConfig(BaseConfig):
    ALGO_NAME = "lab_algo"

    def algo_config(self):
        self.algo.optim_params.policy.learning_rate.initial = 1e-4
        self.algo.lab_temperature = 0.5
        self.algo.lab_layers = [256, 256]
'''


def make_fork(folder: Path) -> Path:
    """A lab's fork of the installed robomimic 0.3.0 with an algorithm of its own (registered by
    its config package, as robomimic's algorithms are); the rest is the installed package."""
    upstream = installed.package_folder()
    package = folder / "robomimic"
    (package / "config").mkdir(parents=True)
    (package / "__init__.py").write_text(f"__version__ = '0.3.0'\n__path__.append({str(upstream)!r})\n")
    (package / "config" / "__init__.py").write_text(
        f"__path__.append({str(upstream / 'config')!r})\n"
        f"exec(open({str(upstream / 'config' / '__init__.py')!r}).read())\n"
        "from robomimic.config.lab_config import LabConfig\n")
    (package / "config" / "lab_config.py").write_text(FORK_CONFIG)
    python = folder / "python"
    python.write_text(f"#!/bin/sh\nPYTHONPATH={folder} exec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    return python


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty schema cache, and a count of the times robomimic's configs were read."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(installed, "_LOADED", {})
    reads: List[Any] = []
    real = installed.run_dump
    monkeypatch.setattr(installed, "run_dump", lambda *a, **k: reads.append(a) or real(*a, **k))
    return reads


def test_a_fork_with_its_own_algorithm_is_checked_against_its_own_keys(tmp_path, fresh_cache):
    python = str(make_fork(tmp_path / "fork"))
    fork = selection.select("installed", python)
    assert fork.algorithms()[-1] == "lab_algo" and fork.folder == str(tmp_path / "fork" / "robomimic")
    schema = fork.schema("lab_algo", "test")
    schema.check("algo.lab_temperature", 0.9, "sweep")
    with pytest.raises(SweepError, match="'algo.lab_temperatur' is not a key of the installed robomimic 0.3.0's "
                                         "lab_algo config; did you mean 'algo.lab_temperature'"):
        schema.check_key("algo.lab_temperatur", "sweep")


def test_train_script_robomimic_is_the_train_py_of_the_robomimic_checked_against(tmp_path, fresh_cache):
    python = str(make_fork(tmp_path / "fork"))
    (tmp_path / "fork" / "robomimic" / "scripts").mkdir()
    (tmp_path / "fork" / "robomimic" / "scripts" / "train.py").write_text("")
    request = make_request(tmp_path, cli=SEEDS, python=python, train_script="robomimic")
    write_script_mode(request)
    assert (tmp_path / "sd" / "run.sh").read_text().splitlines()[2].startswith(
        f"{python} {tmp_path}/fork/robomimic/scripts/train.py --config ")


def test_the_installed_schema_is_read_once_and_cached_by_package_not_version(tmp_path, fresh_cache):
    fork = str(make_fork(tmp_path / "fork"))
    ours = selection.select("auto")
    installed._LOADED.clear()
    assert selection.select("auto").key == ours.key and selection.select("auto", fork).name == "installed"
    assert len(fresh_cache) == 2  # this Python's 0.3.0 and the fork's 0.3.0: the same version, two schemas
    installed._LOADED.clear()
    selection.select("auto", fork)
    assert len(fresh_cache) == 2  # from the cache
    (tmp_path / "fork" / "robomimic" / "config" / "lab_config.py").write_text(FORK_CONFIG + "\n# changed\n")
    installed._LOADED.clear()
    selection.select("auto", fork)
    assert len(fresh_cache) == 3  # the package changed: read again


def test_without_an_importable_robomimic_auto_is_the_newest_release_and_installed_says_so(tmp_path):
    bare = tmp_path / "bare_python"  # no site-packages: no robomimic
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    bare.chmod(0o755)
    assert selection.select("auto", str(bare)).key == versions.bundled("0.5.0").key
    assert selection.select("auto", str(tmp_path / "on_the_cluster" / "python")).name == "0.5.0"
    with pytest.raises(SweepError, match=f"launch.robomimic=installed: launch.python={bare} cannot import robomimic"):
        selection.select("installed", str(bare))


def test_a_virtual_environment_is_asked_for_its_own_robomimic(tmp_path):
    """Its python links to this very binary, but its packages are its own: here, none."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\ninclude-system-site-packages = false\n")
    with pytest.raises(SweepError, match="cannot import robomimic"):
        selection.select("installed", str(venv / "bin" / "python"))


def test_an_unknown_robomimic_lists_the_choices():
    with pytest.raises(SweepError) as err:
        selection.check_choice("0.6")
    assert str(err.value).startswith("launch.robomimic must be one of auto, installed, 0.3.0, 0.5.0, master, "
                                     "robocasa, dexmimicgen")


# -- through launcher/run.py -------------------------------------------------------------------

def app(cwd: Path, *args: str, env: Dict[str, str] = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, RUN_PY, *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def test_a_new_algorithm_composes_and_lists_under_its_robomimic(tmp_path):
    proc = app(tmp_path, "launch.robomimic=robocasa", "algo=act", "train.seed=1,2", "launch.mode=list",
               "train.data=[{path: a.hdf5}]")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == ("2 runs (launch.mode=list: nothing written; checked against robomimic's "
                                            "robocasa branch, bundled schema)")


def test_an_algorithm_the_robomimic_lacks_is_refused_before_composing(tmp_path):
    proc = app(tmp_path, "algo=diffusion_policy", "train.seed=1,2")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: algo=diffusion_policy: algo_name 'diffusion_policy' is not an algorithm "
                                  "of the installed robomimic 0.3.0; choose one of bc, bcq, cql, iql, gl, hbc, iris, "
                                  "td3_bc; robomimic 0.5.0, robomimic master and robomimic's robocasa branch have it")
    assert list(tmp_path.iterdir()) == []


def test_a_users_own_algo_file_is_left_to_hydra(tmp_path):
    """--config-dir DIR with DIR/algo/NAME.yaml (here bc with a smaller batch, built on
    robomimic://'s bc) is a choice of the group that the robomimic does not know."""
    from launcher.request.command_line import select_robomimic
    from launcher.run import CONF

    (tmp_path / "algo").mkdir()
    (tmp_path / "algo" / "bc_small.yaml").write_text(
        "# @package _global_\ndefaults:\n  - /algo/bc@_here_\n  - _self_\ntrain:\n  batch_size: 7\n")
    try:
        assert select_robomimic(["--config-dir", str(tmp_path), "algo=bc_small"], CONF) is None
        assert "algo_name 'bc_small' is not an algorithm of the installed robomimic 0.3.0" in \
            select_robomimic(["algo=bc_small"], CONF)
    finally:
        selection.compose_with(selection.AUTO, None)


def test_a_fork_trains_through_launch_python_with_its_own_algorithm_composed(tmp_path):
    python = make_fork(tmp_path / "fork")
    proc = app(tmp_path, f"launch.python={python}", "algo=lab_algo", "algo.lab_temperature=0.1,0.9",
               "launch.mode=list")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert last.endswith(f"checked against robomimic 0.3.0 installed at {tmp_path}/fork/robomimic)")


def test_launch_robomimic_from_a_config_file_is_refused_naming_the_option(tmp_path):
    (tmp_path / "conf" / "preset").mkdir(parents=True)
    (tmp_path / "conf" / "preset" / "lab.yaml").write_text("# @package _global_\nlaunch:\n  robomimic: robocasa\n")
    proc = app(tmp_path, "--config-dir", "conf", "preset=lab", "train.seed=1,2", "launch.mode=list")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "launch.robomimic=robocasa means robomimic's robocasa branch, bundled schema, but the config was " \
           "composed from robomimic 0.3.0 installed at" in proc.stderr
    assert "give them on the command line instead" in proc.stderr


def test_help_lists_the_algorithms_of_the_robomimic_in_use(tmp_path):
    from launcher.run import algo_help

    assert algo_help().startswith("  algo=bc|bcq|cql|gl|hbc|iql|iris|td3_bc\n")  # the installed 0.3.0
    robocasa = app(tmp_path, "--help", "launch.robomimic=robocasa")
    assert "  algo=act|bc|bcq|cql|diffusion_policy|gl|hbc|iql|iris|td3_bc\n" in robocasa.stdout
    assert "robomimic's robocasa branch, bundled schema" in robocasa.stdout.replace("\n" + " " * 27, " ")


def test_run_mode_trains_as_the_selected_robomimic_and_records_it(tmp_path):
    """The stub, told by run mode which robomimic it is, trains master's diffusion policy
    (last.pth every epoch, its warm-up learning rate) and the report reads its logs."""
    proc = app(tmp_path, "launch.robomimic=master", "algo=diffusion_policy", "dataset=demo", "launch.mode=run",
               "launch.train_script=stub", "train.num_epochs=2", "experiment.epoch_every_n_steps=5",
               "experiment.rollout.enabled=false", "train.output_dir=trained", "train.seed=1,2", "hydra.sweep.dir=sd")
    assert proc.returncode == 0, proc.stderr
    assert "Launching 2 runs (checked against robomimic master, bundled schema)" in proc.stdout
    record = json.loads((tmp_path / "sd" / "robomimic.json").read_text())
    assert (record["name"], record["folder"], record["profile"]["resume"]) == ("master", None, "latest_folder")
    for seed in (1, 2):
        (run_dir,) = (p for p in (tmp_path / "trained" / f"test_seed_{seed}").iterdir() if p.name[0] != ".")
        assert (run_dir / "last.pth").is_file() and (run_dir / "last_bak.pth").is_file()
    rows = list(csv.DictReader((tmp_path / "sd" / "results.csv").open()))
    assert [row["status"] for row in rows] == ["succeeded", "succeeded"] and all(row["train_loss_last"] for row in rows)
