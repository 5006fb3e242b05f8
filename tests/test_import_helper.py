"""``python -m launcher.import_helper``: a helper script's sweep as a sweep file that
writes the same configs.

End to end on two helper scripts in ``tests/data/generator_helpers/``: one in the
style of robomimic's ``scripts/hyperparam_helper.py`` (compared with what robomimic
0.3.0's own generator writes when it runs that script) and one in the style of the
robocasa branch's ``scripts/config_gen/`` (compared with the recorded output of
robocasa's generator). The rest runs in this process.
"""
import json
import runpy
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from launcher.core.errors import SweepError
from launcher.import_helper import (
    DEPRECATED_FORM,
    HYPERPARAM_UTILS,
    hydra_value,
    import_helper,
    main,
    parse_args,
    run_helper,
)
from tests.helpers import REPO
from tools.generator_oracles import make_base

DATA = Path(__file__).parent / "data"
HELPERS = DATA / "generator_helpers"
ORACLE = DATA / "generators" / "robocasa" / "robocasa_config_gen_style"


def bc_rnn_base(folder: Path) -> Path:
    base = json.loads((DATA / "generator_base_bc.json").read_text())
    base["experiment"]["name"] = "bc_rnn_hyper"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.json").write_text(json.dumps(base, indent=4))
    return folder / "base.json"


def import_and_run(cwd: Path, helper: Path, helper_args: List[str], **env: str) -> subprocess.CompletedProcess:
    """Import the helper's sweep, then run the command the import printed, both from ``cwd``."""
    imported = subprocess.run([sys.executable, "-m", "launcher.import_helper", "--out", "conf/sweep/imported.yaml",
                               str(helper), *helper_args], cwd=cwd, capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(cwd), **env})
    assert imported.returncode == 0, imported.stderr
    lines = imported.stdout.splitlines()
    command = shlex.split(lines[lines.index(next(x for x in lines if x.startswith("Run it from"))) + 1])
    assert command[:2] == ["python", str(REPO / "launcher" / "run.py")]
    ran = subprocess.run([sys.executable, *command[1:], f"hydra.sweep.dir={cwd / 'sd'}"], cwd=cwd,
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return imported


def test_guide_style_helper_imports_to_the_configs_robomimic_writes(tmp_path):
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    for folder in (theirs, ours):
        bc_rnn_base(folder)
    subprocess.run([sys.executable, str(HELPERS / "scan_helper.py"), "--config", "base.json", "--script", "run.sh"],
                   cwd=theirs, check=True, capture_output=True)  # robomimic 0.3.0's own ConfigGenerator
    imported = import_and_run(ours, HELPERS / "scan_helper.py", ["--config", "base.json", "--script", "run.sh"])

    assert "8 runs" in imported.stdout and "base config:  base.json" in imported.stdout
    their_files = sorted(p.name for p in theirs.glob("*.json"))
    assert len(their_files) == 9 and sorted(p.name for p in ours.glob("*.json")) == their_files
    for name in their_files:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    assert (ours / "run.sh").read_text().replace(str(ours), "D") == (theirs / "run.sh").read_text().replace(
        str(theirs), "D")
    sweep = (ours / "conf" / "sweep" / "imported.yaml").read_text()
    assert sweep.startswith("# Imported with: python -m launcher.import_helper")


def test_config_gen_style_helper_imports_to_what_robocasas_generator_writes(tmp_path):
    (tmp_path / "base.json").write_text(json.dumps(make_base(json.loads((ORACLE / "calls.json").read_text())
                                                             | {"base": "generator_base_partial.json"}), indent=4))
    # Its datasets are lists, which robocasa's robomimic reads (installed here: 0.3.0, which cannot).
    imported = import_and_run(tmp_path, HELPERS / "config_gen_helper.py",
                              ["--script", str(tmp_path / "run.sh"), "--name", "test", "--env", "robocasa",
                               "--mod", "im", "--eval"], ROBOMIMIC_SWEEP_ROBOMIMIC="robocasa")

    assert "extra_flags:  '--eval_only'" in imported.stdout
    assert "launch.extra_args=--eval_only" in imported.stdout and "launch.robomimic=robocasa" in imported.stdout
    theirs = {p.name: p.read_text() for p in (ORACLE / "configs").glob("*.json")}
    ours = {p.name: p.read_text() for p in (tmp_path / "json").glob("*.json")}
    assert ours == theirs and len(ours) == 4
    their_lines = (ORACLE / "script.sh").read_text().splitlines()[2:]
    our_lines = (tmp_path / "run.sh").read_text().splitlines()[2:]
    assert [line.rsplit("/", 1)[1] for line in our_lines] == [line.rsplit("/", 1)[1] for line in their_lines]
    assert all(line.endswith(".json --eval_only") for line in our_lines)


# -- in this process -------------------------------------------------------------------------

IMPORT_STYLES = {
    "import-as": "import robomimic.utils.hyperparam_utils as H\nG = H.ConfigGenerator",
    "from-import-class": "from robomimic.utils.hyperparam_utils import ConfigGenerator as G",
    "from-package-import-module": "from robomimic.utils import hyperparam_utils\nG = hyperparam_utils.ConfigGenerator",
    "dotted-attribute": "import robomimic.utils.hyperparam_utils\nG = robomimic.utils.hyperparam_utils.ConfigGenerator",
    "launcher-drop-in": "from launcher import ConfigGenerator as G",
}


def write_helper(folder: Path, imports: str, body: str = "") -> Path:
    bc_rnn_base(folder)
    body = body or """
        g = G("base.json", script_file="run.sh", base_exp_name="scan")
        g.add_param("train.seed", "seed", 0, [1], hidename=True)
        g.add_param("train.batch_size", "bs", 2, [16, 32])
        g.add_param("algo.gmm.enabled", "gmm", 1, values_and_names=[(True, "t"), (False, "f")], prepend=True)
        g.generate(extra_flags="--eval_only")
    """
    helper = folder / "helper.py"
    helper.write_text(imports + "\n" + textwrap.dedent(body))
    return helper


@pytest.mark.parametrize("imports", IMPORT_STYLES.values(), ids=IMPORT_STYLES.keys())
def test_every_import_of_the_generator_is_recorded_and_nothing_written(tmp_path, monkeypatch, imports):
    monkeypatch.chdir(tmp_path)
    import robomimic.utils.hyperparam_utils as real

    helper = write_helper(tmp_path, imports)
    generated = run_helper(str(helper), [])
    assert generated.extra_flags == "--eval_only" and generated.runs == 4
    sweep = generated.generator.sweep_file()
    assert sweep["base_name"] == "scan" and sweep["wandb_proj_name"] is None
    assert [(p["key"], p.get("hidename", False), p.get("prepend", False)) for p in sweep["params"]] == [
        ("algo.gmm.enabled", False, True), ("train.seed", True, False), ("train.batch_size", False, False)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.json", "helper.py"]
    assert sys.modules[HYPERPARAM_UTILS] is real and sys.modules["robomimic.utils"].hyperparam_utils is real


def test_without_robomimic_installed_the_helper_still_imports(tmp_path, monkeypatch):
    from launcher import import_helper as module

    monkeypatch.chdir(tmp_path)
    for name in [n for n in sys.modules if n == "robomimic" or n.startswith("robomimic.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(module._StandIn, "_found_elsewhere", lambda self, fullname, path: False)
    helper = write_helper(tmp_path, "import robomimic\n" + IMPORT_STYLES["import-as"])
    assert run_helper(str(helper), []).runs == 4
    assert "robomimic" not in sys.modules


@pytest.mark.parametrize("body, fragment", [
    pytest.param("G('base.json').add_param('train.seed', 'seed', 0, [1])", "called ConfigGenerator.generate() 0 times",
                 id="never-generates"),
    pytest.param("g = G('base.json')\ng.add_param('train.seed', 'seed', 0, [1])\ng.generate()\ng.generate()",
                 "called ConfigGenerator.generate() 2 times", id="generates-twice"),
    pytest.param("raise SystemExit(2)", "exited with status 2; nothing was imported", id="exits-non-zero"),
    pytest.param("import os\nos._exit(0)", "called ConfigGenerator.generate() 0 times", id="os-exit-0-first"),
    pytest.param("import os\nos._exit(3)", "exited with status 3; nothing was imported", id="os-exit-3"),
    pytest.param("g = G('base.json')\ng.add_param('train.seed', 'seed', 0, [1])\ng.generate(extra_flags=\"--a 'b\")",
                 "generate(extra_flags=\"--a 'b\") cannot be split into shell words", id="unbalanced-extra-flags"),
    pytest.param("g = G('base.json')\ng.add_param('train.sed', 'seed', 0, [1])\ng.generate()",
                 "add_param #1 ('train.sed'): 'train.sed' is not a key", id="bad-key"),
    pytest.param("g = G('base.json')\ng.add_param('train.seed', '', 0, [1, 2])\ng.generate()",
                 "two runs would both be named 'bc_rnn_hyper'", id="colliding-names"),
])
def test_a_helper_that_gives_no_good_sweep_is_refused(tmp_path, monkeypatch, body, fragment):
    monkeypatch.chdir(tmp_path)
    helper = write_helper(tmp_path, IMPORT_STYLES["from-import-class"], body)
    with pytest.raises(SweepError) as err:
        import_helper(str(helper), [], "conf/sweep/s.yaml")
    assert fragment in str(err.value)
    assert not (tmp_path / "conf").exists()


GENERATES_THEN_OS_EXITS = """
    g = G("base.json", script_file="run.sh")
    g.add_param("train.seed", "seed", 0, [1, 2])
    g.generate()
    import os
    os._exit(0)
"""


def test_a_helper_that_os_exits_after_generate_is_imported(tmp_path):
    """In its own process, as users run it: os._exit(0) used to end the import with status 0
    before anything was written."""
    helper = write_helper(tmp_path, IMPORT_STYLES["from-import-class"], GENERATES_THEN_OS_EXITS)
    proc = subprocess.run([sys.executable, "-m", "launcher.import_helper", "--out", "conf/sweep/s.yaml", str(helper)],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "key: train.seed" in (tmp_path / "conf" / "sweep" / "s.yaml").read_text()


def test_ctrl_c_in_a_helper_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    helper = write_helper(tmp_path, IMPORT_STYLES["from-import-class"], "raise KeyboardInterrupt")
    assert main(["--out", "conf/sweep/s.yaml", str(helper)]) == 130
    assert capsys.readouterr().err == "interrupted; no sweep file was written\n"
    assert not (tmp_path / "conf").exists()


def test_out_naming_a_folder_is_refused_before_the_helper_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    helper = write_helper(tmp_path, IMPORT_STYLES["from-import-class"], "raise SystemExit('the helper ran')")
    (tmp_path / "conf" / "sweep" / "s.yaml").mkdir(parents=True)
    assert main(["--out", "conf/sweep/s.yaml", "--overwrite", str(helper)]) == 1
    assert capsys.readouterr().err == ("error: --out conf/sweep/s.yaml is a folder; give the sweep file to write, "
                                       "DIR/sweep/NAME.yaml\n")


NUMPY_SWEEP = """
    import numpy as np
    g = G("base.json", script_file="run.sh", generated_config_dir="configs")
    g.add_param("algo.optim_params.policy.learning_rate.initial", "lr", 0, np.logspace(-4, -3, 2))
    g.add_param("train.batch_size", "bs", 1, list(np.array([16, 32])), value_names=list(np.array(["s", "l"])))
    g.add_param("train.seed", "seed", 2, [np.int64(1)])
    g.generate()
"""


@pytest.mark.parametrize("imports", ["from-import-class", "launcher-drop-in"])
def test_numpy_values_from_a_helper_become_plain_values(tmp_path, monkeypatch, capsys, imports):
    """np.logspace(...) for a learning rate, as robomimic takes it: the same sweep file as
    with Python numbers, from the import and from the drop-in's export_sweep alike."""
    monkeypatch.chdir(tmp_path)
    helper = write_helper(tmp_path, IMPORT_STYLES[imports], NUMPY_SWEEP)
    if imports == "launcher-drop-in":
        helper.write_text(helper.read_text() + "g.export_sweep('conf/sweep/s.yaml')\n")
        runpy.run_path(str(helper))
    else:
        assert main(["--out", "conf/sweep/s.yaml", str(helper)]) == 0, capsys.readouterr().err
    params = OmegaConf.to_container(OmegaConf.load(tmp_path / "conf" / "sweep" / "s.yaml"))["params"]
    assert [(p["values"], p.get("value_names")) for p in params] == [
        ([0.0001, 0.001], None), ([16, 32], ["s", "l"]), ([1], None)]


def test_shell_text_in_extra_flags_is_pointed_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = "g = G('base.json')\ng.add_param('train.seed', 'seed', 0, [1])\ng.generate(extra_flags='--note $HOME')"
    lines = import_helper(str(write_helper(tmp_path, IMPORT_STYLES["from-import-class"], body)), [], "c/sweep/s.yaml")
    assert "  (the app passes extra_flags as quoted words: --note '$HOME'; robocasa's script let the shell read them)" \
        in lines


def test_an_existing_sweep_file_is_replaced_only_when_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    helper = write_helper(tmp_path, IMPORT_STYLES["from-import-class"])
    out = tmp_path / "conf" / "sweep" / "s.yaml"
    out.parent.mkdir(parents=True)
    out.write_text("params: []\n")
    with pytest.raises(SweepError, match="exists with other content; add --overwrite"):
        import_helper(str(helper), [], str(out))
    import_helper(str(helper), [], str(out), overwrite=True)
    assert "hidename: true" in out.read_text()
    import_helper(str(helper), [], str(out))  # the same content again: fine


@pytest.mark.parametrize("argv, expected", [
    pytest.param(["--out", "d/sweep/n.yaml", "h.py", "--config", "b.json"],
                 ("h.py", ["--config", "b.json"], "d/sweep/n.yaml", False), id="ours-first"),
    pytest.param(["--overwrite", "--out=d/sweep/n.yaml", "h.py", "--out", "x", "-v"],
                 ("h.py", ["--out", "x", "-v"], "d/sweep/n.yaml", True), id="after-the-helper-all-is-the-helpers"),
    pytest.param(["h.py", "--config", "b.json"], ("h.py", ["--config", "b.json"], "sweeps/sweep/h.yaml", False),
                 id="default-out-named-after-the-helper"),
    pytest.param(["h.py", "--out=x", "-v"], ("h.py", ["--out=x", "-v"], "sweeps/sweep/h.yaml", False),
                 id="an-out-not-at-the-end-is-the-helpers"),
    pytest.param(["h.py", "--out", "--overwrite", "-v"], ("h.py", ["--out", "--overwrite", "-v"],
                                                          "sweeps/sweep/h.yaml", False), id="so-with-overwrite-after-it"),
])
def test_our_options_come_before_the_helper(argv, expected, capsys):
    assert parse_args(argv) == expected
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, expected", [
    pytest.param(["h.py", "--config", "b.json", "--out", "d/sweep/n.yaml"], ("h.py", ["--config", "b.json"],
                                                                             "d/sweep/n.yaml", False), id="out-last"),
    pytest.param(["h.py", "--out", "x", "--out=d/sweep/n.yaml", "--overwrite"],
                 ("h.py", ["--out", "x"], "d/sweep/n.yaml", True), id="trailing-options-are-ours"),
])
def test_the_old_form_with_our_options_last_still_works_with_a_note(argv, expected, capsys):
    assert parse_args(argv) == expected
    assert capsys.readouterr().err.strip() == DEPRECATED_FORM


def test_bad_import_command_lines_say_how(capsys):
    with pytest.raises(SweepError, match="--out needs a path"):
        parse_args(["h.py", "--out"])
    with pytest.raises(SystemExit) as exit:
        parse_args([])
    assert exit.value.code == 2 and "the following arguments are required: helper" in capsys.readouterr().err


def test_out_must_be_where_hydra_finds_a_sweep(tmp_path):
    with pytest.raises(SweepError, match="give DIR/sweep/NAME.yaml"):
        import_helper(str(tmp_path / "h.py"), [], str(tmp_path / "scan.yaml"))


@pytest.mark.parametrize("text", ["--eval_only", "/data/my runs/base.json", "123", "true", "1e-3", "a,b", "x=y",
                                  "--eval_only --note 'a b'  --x", "back\\", "it's\\'", "x${y}", "~/tmp/run.sh"])
def test_printed_overrides_read_back_as_the_text(text):
    override = OverridesParser.create().parse_override(f"launch.extra_args={hydra_value(text)}")
    assert not override.is_sweep_override()
    # OmegaConf turns "\${" into a literal "${" when it resolves the config
    assert override.value() == text.replace("${", "\\${")
