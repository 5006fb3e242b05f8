"""Every option of robomimic's later ConfigGenerators, held to what their code writes.

``tests/data/generators/{master,robocasa}/<case>/`` holds what robomimic master's and
the robocasa branch's ``ConfigGenerator`` wrote for each case of
``tests/data/generator_cases.json`` (recorded by ``python -m tools.generator_oracles``;
their source is not kept here, only what it produced). Three ways in are held to
those files, in this process:

* the drop-in class (``from launcher import ConfigGenerator``), called as the case does:
  the same configs, script, stdout and files left behind;
* a sweep file written for the case by hand (the fields ``base_name``,
  ``hide_base_name``, ``wandb_proj_name``, ``hidename``, ``prepend``,
  ``values_and_names`` and ``launch.extra_args``), through the app's plan and script mode;
* the sweep file the drop-in exports, read back as Hydra reads it.

Where robomimic writes something broken (colliding or empty run names) or crashes
midway, we refuse before writing anything; those cases say so below.
"""
import dataclasses
import io
import json
import os
import shlex
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from omegaconf import OmegaConf

from launcher.core.errors import SweepError
from launcher.core.params import param_from_entry
from launcher.generator import ConfigGenerator, sweep_yaml
from launcher.modes import write_script
from launcher.request.planning import make_plan
from launcher.robomimic.paths import installed_train_script
from tests.helpers import make_request
from tools.generator_oracles import make_base

DATA = Path(__file__).parent / "data"
CASES = {case["id"]: case for case in json.loads((DATA / "generator_cases.json").read_text())}
TRAIN_PY = str(installed_train_script())
ROBOMIMIC_DIR = TRAIN_PY[: -len("/scripts/train.py")]

# The option comes from the other generator, which has its own oracle for it.
OTHER_GENERATORS_OPTION = {
    ("master", "values_and_names_master"): "robocasa-values_and_names",
    ("master", "extra_flags_eval_only"): "robocasa-extra_flags_eval_only",
    ("robocasa", "base_exp_name"): "master-base_exp_name",
    ("robocasa", "wandb_proj_name_none"): "master-wandb_proj_name_none",
}
# robomimic writes something broken or crashes midway; we refuse before writing anything.
REFUSED = {
    "hidename_collision": "two runs would both be named 'part_bs_16'",
    "override_all_hidden": "cannot be a file name",
    "empty_values": "'values' is empty",
    "base_without_experiment_name": "'experiment.name' must be a string",
    "group_length_mismatch": "zips params with different numbers of values",
    "no_params": "no params; call add_param first",
    "value_names_length_mismatch": "value_names for",
    "values_and_names_with_value_names": "give values_and_names, or values (with value_names), not both",
    "values_and_names_with_values": "give values_and_names, or values (with value_names), not both",
    "no_values": "missing field(s) ['values']",
    "extra_flags_not_str": "extra_flags must be a string",
    # robomimic's train.py would refuse the key: meta is not open to new keys.
    "base_meta_custom": "base.json: 'meta.note' is not a key of the installed robomimic 0.3.0's bc config",
}
# Cases whose datasets are lists, as the robocasa branch's config_gen scripts write them:
# checked against that robomimic (the one installed in the tests, 0.3.0, reads one path).
CHECKED_AGAINST = {"values_and_names": "robocasa", "robocasa_config_gen_style": "robocasa"}
# robomimic crashes on a base without experiment.logging when it writes the wandb name;
# we leave the name out, so these write what master writes for such a base without one.
NO_LOGGING = {("robocasa", "base_without_logging"), ("master", "base_without_logging_wandb_given")}


@dataclasses.dataclass
class Oracle:
    generator: str
    case: Dict[str, Any]
    calls: Dict[str, Any]
    configs: Dict[str, str]
    script: Optional[str]

    @staticmethod
    def load(generator: str, case_id: str) -> "Oracle":
        folder = DATA / "generators" / generator / case_id
        configs = {p.name: p.read_text() for p in sorted((folder / "configs").glob("*.json"))}
        script = folder / "script.sh"
        return Oracle(generator, CASES[case_id], json.loads((folder / "calls.json").read_text()), configs,
                      script.read_text() if script.exists() else None)

    @property
    def config_dir(self) -> str:
        return self.case["init"].get("generated_config_dir") or "<dir>"


def oracle_ids() -> List[Tuple[str, str]]:
    return [(g, c) for c, case in CASES.items() for g in case["generators"]]


def case_params(kinds: Tuple[str, ...]) -> List[Any]:
    """(generator, case) pairs of the given kinds, with ids like ``master-prepend_two``."""
    return [pytest.param(g, c, id=f"{g}-{c}") for g, c in oracle_ids() if kind(g, c) in kinds]


def kind(generator: str, case_id: str) -> str:
    if (generator, case_id) in OTHER_GENERATORS_OPTION:
        return "other"
    if case_id in REFUSED:
        return "refused"
    return "written"


def expected(generator: str, case_id: str) -> Oracle:
    if (generator, case_id) in NO_LOGGING:
        return Oracle.load("master", "base_without_logging")
    return Oracle.load(generator, case_id)


@pytest.fixture
def run_dir(tmp_path, monkeypatch, request):
    """Each case's ``<dir>``: the working directory and $HOME, as the recording had it; the
    drop-in checks against the case's robomimic (ROBOMIMIC_SWEEP_ROBOMIMIC)."""
    (tmp_path / "home" / "tmp").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    callspec = getattr(request.node, "callspec", None)
    case_id = callspec.params.get("case_id") if callspec is not None else None
    if case_id in CHECKED_AGAINST:
        monkeypatch.setenv("ROBOMIMIC_SWEEP_ROBOMIMIC", CHECKED_AGAINST[case_id])
    return tmp_path


def write_case_base(run_dir: Path, case: Dict[str, Any]) -> None:
    (run_dir / "base.json").write_text(json.dumps(make_base(case), indent=4))


def with_dir(value: Any, run_dir: Path) -> Any:
    if isinstance(value, str):
        return value.replace("<dir>", str(run_dir))
    if isinstance(value, dict):
        return {k: with_dir(v, run_dir) for k, v in value.items()}
    return value


def masked(text: str, run_dir: Path) -> str:
    return text.replace(ROBOMIMIC_DIR, "<robomimic>").replace(str(run_dir), "<dir>")


def left_in_dir(run_dir: Path) -> List[str]:
    found = []
    for root, dirs, files in os.walk(run_dir):
        rel = os.path.relpath(root, run_dir)
        found += [os.path.normpath(os.path.join(rel, d)) + "/" for d in dirs]
        found += [os.path.normpath(os.path.join(rel, f)) for f in files]
    return sorted(found)


def theirs_words(line: str, extra_flags: Any) -> List[str]:
    """robomimic's unquoted line as the words it meant (its config path may hold spaces)."""
    prefix = "python <robomimic>/scripts/train.py --config "
    suffix = " " + extra_flags if isinstance(extra_flags, str) else ""
    assert line.startswith(prefix) and line.endswith(suffix)
    path = line[len(prefix): len(line) - len(suffix)]
    return ["python", "<robomimic>/scripts/train.py", "--config", path, *shlex.split(suffix)]


def assert_same_commands(ours: List[str], theirs: List[str], extra_flags: Any) -> None:
    """Byte for byte, except that we quote a config path where the shell needs it."""
    assert len(ours) == len(theirs)
    for our_line, their_line in zip(ours, theirs):
        if our_line != their_line:
            assert shlex.split(our_line) == theirs_words(their_line, extra_flags)


def script_commands(script: str) -> List[str]:
    assert script.startswith("#!/bin/bash\n\n") and script.endswith("\n")
    return script[len("#!/bin/bash\n\n"):].split("\n")[:-1]


def stdout_commands(stdout: str) -> Tuple[str, List[str]]:
    """``Num exps: N`` and the commands robomimic prints, each between blank lines."""
    head, _, rest = stdout.partition("\n")
    blocks = rest.split("\n\n\n") if rest else []
    return head, [block.strip("\n") for block in blocks]


# -- the drop-in class ------------------------------------------------------------------

def drop_in(run_dir: Path, generator: str, case: Dict[str, Any]) -> None:
    """Call our ConfigGenerator as the case called theirs."""
    init = with_dir(case["init"], run_dir)
    if generator == "robocasa":
        init.setdefault("wandb_proj_name", "debug")  # robocasa's default; ours is master's (None)
    ours = ConfigGenerator(**init)
    for call in case["add_param"]:
        ours.add_param(**call)
    ours.generate(**case["generate"])


@pytest.mark.parametrize("generator, case_id", case_params(("written",)))
def test_drop_in_writes_what_the_generator_writes(run_dir, capsys, generator, case_id):
    oracle = expected(generator, case_id)
    case = CASES[case_id]
    write_case_base(run_dir, case)
    drop_in(run_dir, generator, case)
    stdout = masked(capsys.readouterr().out, run_dir)

    config_dir = Path(with_dir(oracle.config_dir, run_dir))
    ours = {p.name: p.read_text() for p in sorted(config_dir.glob("*.json")) if p.name != "base.json"}
    assert list(ours) == sorted(oracle.configs)
    for name, text in oracle.configs.items():
        assert ours[name] == text, name
    script = masked(Path(with_dir(oracle.calls["script_file"], run_dir)).read_text(), run_dir)
    extra = case["generate"].get("extra_flags")
    assert_same_commands(script_commands(script), script_commands(oracle.script), extra)
    our_count, our_lines = stdout_commands(stdout)
    their_count, their_lines = stdout_commands(oracle.calls["stdout"])
    assert our_count == their_count
    assert_same_commands(our_lines, their_lines, extra)
    assert left_in_dir(run_dir) == oracle.calls["left_in_dir"]


@pytest.mark.parametrize("generator, case_id", case_params(("refused",)))
def test_drop_in_refuses_what_the_generator_gets_wrong_before_writing(run_dir, generator, case_id):
    case = CASES[case_id]
    write_case_base(run_dir, case)
    before = left_in_dir(run_dir)
    with pytest.raises(SweepError) as err:
        drop_in(run_dir, generator, case)
    assert REFUSED[case_id] in str(err.value)
    assert left_in_dir(run_dir) == before


def test_drop_in_errors_name_the_add_param_call(run_dir):
    write_case_base(run_dir, CASES["basic_two_groups"])
    ours = ConfigGenerator("base.json", generated_config_dir="configs")
    ours.add_param("train.seed", "seed", 0, [1, 2])
    ours.add_param("train.batch_sizee", "bs", 1, [16])
    with pytest.raises(SweepError, match=r"add_param #2 \('train.batch_sizee'\).*did you mean 'train.batch_size'"):
        ours.generate()
    assert not (run_dir / "configs").exists()


def test_drop_in_sees_values_changed_in_place_after_add_param(run_dir, capsys):
    """robocasa's config_gen scripts append to generator.parameters[key].values later."""
    write_case_base(run_dir, CASES["basic_two_groups"])
    ours = ConfigGenerator("base.json", generated_config_dir="configs", script_file="run.sh")
    ours.add_param("train.seed", "seed", 0, [1])
    if "train.seed" in ours.parameters:
        ours.parameters["train.seed"].values.append(2)
    ours.generate()
    assert sorted(p.name for p in (run_dir / "configs").iterdir()) == ["part_seed_1.json", "part_seed_2.json"]
    assert capsys.readouterr().out.startswith("Num exps: 2\n")


# -- a sweep file written for the case ------------------------------------------------------

# Cases a sweep file cannot say: a group id null (sweep files take ints and strings).
NOT_A_SWEEP_FILE = {"mixed_group_types"}


def sweep_file_for(generator: str, case: Dict[str, Any]) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """The case as a sweep file: the generator's options as the sweep file's fields.

    A key added again (robomimic replaces it in place) goes on the command line,
    which does the same; so does every param after it, to keep the calls' order.
    """
    init, generate = case["init"], case["generate"]
    sweep: Dict[str, Any] = {}
    if generate.get("override_base_name"):
        sweep["hide_base_name"] = True
    if init.get("base_exp_name") is not None:
        sweep["base_name"] = init["base_exp_name"]
    elif make_base(case)["experiment"].get("name") == "":
        sweep["base_name"] = ""  # master's and robocasa's "_" rule, not 0.3.0's
    if "wandb_proj_name" in init:
        sweep["wandb_proj_name"] = init["wandb_proj_name"]
    elif generator == "master":
        sweep["wandb_proj_name"] = None  # master's default: not written
    entries, again = [], []
    for call in case["add_param"]:
        (again if again or any(e["key"] == call["key"] for e in entries) else entries).append(call)
    sweep["params"] = entries
    return sweep, again


def script_mode(run_dir: Path, oracle: Oracle, sweep: Dict[str, Any], again: List[Dict[str, Any]] = (),
                extra_args: Any = None) -> Tuple[Path, str]:
    """Our app's script mode on ``sweep``, in this process; the config folder and the script."""
    script_file = Path(with_dir(oracle.calls.get("script_file") or "<dir>/run.sh", run_dir))
    request = make_request(
        run_dir, sweep_file=sweep, base_config="base.json", wandb_proj_name=None, extra_args=extra_args,
        config_dir=with_dir(oracle.config_dir, run_dir), script_file=str(script_file), train_script=TRAIN_PY,
        robomimic=CHECKED_AGAINST.get(oracle.case["id"]),
    )
    cli = [param_from_entry(call, f"'command line {i}'") for i, call in enumerate(again)]
    request = dataclasses.replace(request, cli_params=cli)
    with redirect_stdout(io.StringIO()):
        write_script(make_plan(request), request, run_dir / "sd")
    return request.options.config_dir, masked(script_file.read_text(), run_dir)


def by_config_name(words: List[str]) -> List[str]:
    """A command's words with the config named by its file name: our script names
    configs by absolute path, robomimic's as its config folder was given."""
    return [*words[:3], os.path.basename(words[3]), *words[4:]]


def assert_writes_oracle(config_dir: Path, script: str, oracle: Oracle) -> None:
    ours = {p.name: p.read_text() for p in sorted(config_dir.glob("*.json")) if p.name != "base.json"}
    assert sorted(ours) == sorted(oracle.configs)
    for name, text in oracle.configs.items():
        assert ours[name] == text, name
    extra = oracle.case["generate"].get("extra_flags")
    assert [by_config_name(shlex.split(line)) for line in script_commands(script)] == [
        by_config_name(theirs_words(line, extra)) for line in script_commands(oracle.script)]


# robocasa's extra_flags="" leaves a trailing space; launch.extra_args="" adds nothing (tested below).
EMPTY_EXTRA_FLAGS = {"extra_flags_empty"}


@pytest.mark.parametrize("generator, case_id", [p for p in case_params(("written",))
                                                if p.values[1] not in NOT_A_SWEEP_FILE | EMPTY_EXTRA_FLAGS])
def test_sweep_file_writes_what_the_generator_writes(run_dir, generator, case_id):
    oracle = expected(generator, case_id)
    case = CASES[case_id]
    write_case_base(run_dir, case)
    sweep, again = sweep_file_for(generator, case)
    config_dir, script = script_mode(run_dir, oracle, sweep, again, extra_args=case["generate"].get("extra_flags"))
    assert_writes_oracle(config_dir, script, oracle)


def test_empty_extra_args_adds_nothing(run_dir):
    """robocasa's extra_flags="" leaves a space at the end of every line; launch.extra_args=''
    means no extra arguments, and adds nothing."""
    oracle = Oracle.load("robocasa", "extra_flags_empty")
    write_case_base(run_dir, oracle.case)
    sweep, _ = sweep_file_for("robocasa", oracle.case)
    _, script = script_mode(run_dir, oracle, sweep, extra_args="")
    theirs = script_commands(oracle.script)
    assert all(line.endswith(".json ") for line in theirs)
    assert script_commands(script) == [line.rstrip(" ") for line in theirs]


@pytest.mark.parametrize("case_id, fragment", [
    pytest.param("hidename_collision", "two runs would both be named 'part_bs_16'", id="hidename_collision"),
    pytest.param("override_all_hidden", "run name '' cannot be a file name", id="override_all_hidden"),
    pytest.param("values_and_names_with_values", "sweep.params[0] (train.batch_size): give values_and_names, or "
                 "values (with value_names), not both", id="values_and_names_with_values"),
    pytest.param("values_and_names_with_value_names", "sweep.params[0] (train.batch_size): give values_and_names",
                 id="values_and_names_with_value_names"),
])
def test_sweep_file_refuses_what_the_generator_gets_wrong(run_dir, case_id, fragment):
    oracle = Oracle.load("robocasa", case_id)
    write_case_base(run_dir, oracle.case)
    sweep, _ = sweep_file_for("robocasa", oracle.case)
    with pytest.raises(SweepError) as err:
        script_mode(run_dir, oracle, sweep)
    assert fragment in str(err.value)


# -- the sweep file the drop-in exports -------------------------------------------------------

def exported(run_dir: Path, generator: str, case: Dict[str, Any]) -> Dict[str, Any]:
    """The drop-in's sweep file for the case, through YAML and OmegaConf as Hydra reads it."""
    init = with_dir(case["init"], run_dir)
    if generator == "robocasa":
        init.setdefault("wandb_proj_name", "debug")
    ours = ConfigGenerator(**init)
    for call in case["add_param"]:
        ours.add_param(**call)
    text = sweep_yaml(ours.sweep_file(case["generate"].get("override_base_name", False)))
    return OmegaConf.to_container(OmegaConf.create(text), resolve=True)


@pytest.mark.parametrize("generator, case_id",
                         [p for p in case_params(("written",)) if p.values[1] not in EMPTY_EXTRA_FLAGS])
def test_exported_sweep_file_writes_what_the_generator_writes(run_dir, generator, case_id):
    oracle = expected(generator, case_id)
    case = CASES[case_id]
    write_case_base(run_dir, case)
    config_dir, script = script_mode(run_dir, oracle, exported(run_dir, generator, case),
                                     extra_args=case["generate"].get("extra_flags"))
    assert_writes_oracle(config_dir, script, oracle)


def test_export_keeps_prepend_readable():
    """One prepend stays where the helper put it; two are listed so that adding them in turn
    gives the generator's order again (the last prepended leads)."""
    ours = ConfigGenerator("base.json")
    ours.add_param("train.batch_size", "bs", 0, [16])
    ours.add_param("train.seed", "seed", 1, [1, 2], prepend=True)
    ours.add_param("algo.gmm.enabled", "gmm", 2, [True], hidename=True, prepend=True)
    entries = ours.sweep_file()["params"]
    assert [(e["key"], e.get("prepend", False)) for e in entries] == [
        ("train.seed", True), ("algo.gmm.enabled", True), ("train.batch_size", False)]
    assert entries[1]["hidename"] is True
    assert list(ours.parameters) == ["algo.gmm.enabled", "train.seed", "train.batch_size"]


def test_export_yaml_reads_back_equal_in_omegaconf():
    """Strings that OmegaConf would read as numbers or interpolations stay strings."""
    values = ["1e-3", "${oops}", "true", "null", 1e-05, float("inf"), (1, 2), {"k": [1, "2"]}, "café"]
    doc = {"wandb_proj_name": None, "params": [{"key": "k", "name": "n", "group": 0, "values": values}]}
    read = OmegaConf.to_container(OmegaConf.create(sweep_yaml(doc, "a header\nof two lines")), resolve=True)
    assert read["params"][0]["values"] == ["1e-3", "${oops}", "true", "null", 1e-05, float("inf"), [1, 2],
                                           {"k": [1, "2"]}, "café"]
    assert read["wandb_proj_name"] is None


# -- the drop-in's surroundings -----------------------------------------------------------------

def test_without_robomimic_installed_the_script_calls_plain_train_py(run_dir, capsys, monkeypatch):
    """master's lines name <robomimic>/scripts/train.py; with no robomimic to name, we write
    robomimic 0.3.0's line and say so once."""
    import launcher.generator as generator

    monkeypatch.setattr(generator, "installed_train_script", lambda: None)
    monkeypatch.setattr(generator, "_warned", [])
    write_case_base(run_dir, CASES["basic_two_groups"])
    ours = ConfigGenerator("base.json", script_file="run.sh", generated_config_dir="configs")
    ours.add_param("train.seed", "seed", 0, [1, 2])
    ours.generate()
    assert (run_dir / "run.sh").read_text() == (
        "#!/bin/bash\n\n"
        "python train.py --config configs/part_seed_1.json\n"
        "python train.py --config configs/part_seed_2.json\n")
    assert "robomimic is not installed in this Python" in capsys.readouterr().err


def test_import_launcher_does_not_load_the_generator():
    import subprocess
    import sys

    code = ("import sys, launcher; assert 'launcher.generator' not in sys.modules; "
            "from launcher import ConfigGenerator; print(ConfigGenerator.__module__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "launcher.generator"
