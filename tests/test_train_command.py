"""The training command in run.sh: robomimic's own line by default, a real interpreter when asked."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.core.errors import SweepError
from launcher.modes import write_script
from launcher.request.planning import make_plan
from launcher.robomimic.paths import resolve_output_root
from launcher.robomimic.train_command import robomimic_train_script, train_command
from tests.helpers import REPO, make_request, manifest_rows, run_mode_in_process
from tests.test_versions import make_fork

SEEDS = [{"key": "train.seed", "name": "seed", "group": 0, "values": [1, 2]}]


def script_lines(tmp_path: Path, **launch) -> list:
    request = make_request(tmp_path, params=SEEDS, **launch)
    write_script(make_plan(request), request, tmp_path / "sd")
    return (tmp_path / "sd" / "run.sh").read_text().splitlines()[2:]


@pytest.mark.parametrize(
    "launch, expected",
    [
        pytest.param({}, "python train.py --config {config}", id="robomimic's-own-line"),
        pytest.param({"python": "/opt/env/bin/python"}, "/opt/env/bin/python train.py --config {config}",
                     id="launch.python"),
        pytest.param({"train_script": "robomimic"}, f"{sys.executable} {{robomimic}} --config {{config}}",
                     id="robomimic-with-its-interpreter"),
        pytest.param({"train_script": "robomimic", "python": "/opt/env/bin/python"},
                     "/opt/env/bin/python {robomimic} --config {config}", id="robomimic-with-launch.python"),
        pytest.param({"train_script": "stub"},
                     f"ROBOMIMIC_SWEEP_ROBOMIMIC=installed {sys.executable} {REPO / 'train_stub.py'} "
                     "--config {config}",
                     id="the-shipped-stub-with-its-interpreter-as-the-robomimic-checked-against"),
        pytest.param({"extra_args": ["--debug", "a b"]}, "python train.py --config {config} --debug 'a b'",
                     id="extra-args-list"),
        pytest.param({"extra_args": "--debug"}, "python train.py --config {config} --debug",
                     id="a-plain-flag-as-robocasa-writes-it"),
        pytest.param({"extra_args": "; touch pwned $(id)"}, "python train.py --config {config} ';' touch pwned '$(id)'",
                     id="shell-text-is-quoted-words"),
        pytest.param({"train_script": "scripts/my_train.py"}, "python {cwd}/scripts/my_train.py --config {config}",
                     id="a-relative-train-script-made-absolute"),
        pytest.param({"python": "venv/bin/python"}, "{cwd}/venv/bin/python train.py --config {config}",
                     id="a-relative-interpreter-made-absolute"),
    ],
)
def test_script_lines(tmp_path, launch, expected):
    lines = script_lines(tmp_path, **launch)
    config = tmp_path / "sd" / "configs" / "test_seed_1.json"
    assert lines[0] == expected.format(config=config, robomimic=robomimic_train_script(), cwd=tmp_path)


ECHO_ARGS = "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done\n"


@pytest.mark.parametrize(
    "extra_args",
    ["--debug", "--note 'a b' --x=\"c d\"", "; touch pwned", "$(touch pwned) `touch pwned`", "a\\ b #c",
     ["x y", "$HOME"]],
    ids=["a-flag", "quoted-words", "a-semicolon", "command-substitution", "escapes-and-hash", "a-list"],
)
def test_run_sh_and_run_mode_train_the_same_words(tmp_path, extra_args):
    """One meaning of launch.extra_args: the words shlex splits it into, which bash gets from
    run.sh exactly as run mode passes them, and nothing in them runs."""
    echo = tmp_path / "echo_args"
    echo.write_text(ECHO_ARGS)
    echo.chmod(0o755)
    (tmp_path / "train.py").write_text("")
    request = make_request(tmp_path, params=SEEDS, python=str(echo), extra_args=extra_args,
                           train_script=str(tmp_path / "train.py"))
    write_script(make_plan(request), request, tmp_path / "sd")
    shell = subprocess.run(["bash", str(tmp_path / "sd" / "run.sh")], cwd=tmp_path, capture_output=True, check=True)
    first_run = shell.stdout.decode().split("\0")[:-1][:3 + len(request.options.extra_args)]
    config = tmp_path / "sd" / "configs" / "test_seed_1.json"
    run_mode = request.options.train_command(tmp_path, run_mode=True).argv(config)
    assert first_run == run_mode[1:]
    assert not (tmp_path / "pwned").exists()


def test_run_mode_refuses_an_interpreter_that_does_not_run(tmp_path):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'libpython3.so: not found' >&2\nexit 127\n")
    broken.chmod(0o755)
    (tmp_path / "not_executable").write_text("")
    cases = {str(tmp_path / "gone" / "python"): "does not exist",
             str(tmp_path / "not_executable"): "is not an executable file",
             str(broken): "cannot run Python (`" + str(broken) + " -c pass`: libpython3.so: not found)"}
    for python, fragment in cases.items():
        with pytest.raises(SweepError, match=re.escape(f"launch.python: {python} {fragment}")):
            train_command("stub", python, (), tmp_path, run_mode=True)


# robomimic's train.py in miniature: the run folder where its get_exp_dir puts it.
PACKAGE_RELATIVE_TRAIN = """
import argparse, json, os, time
import robomimic

parser = argparse.ArgumentParser()
parser.add_argument("--config")
config = json.load(open(parser.parse_args().config))
base = os.path.expanduser(config["train"]["output_dir"])
if not os.path.isabs(base):
    base = os.path.join(robomimic.__path__[0], base)  # relative paths are specified relative to robomimic
folder = os.path.join(base, config["experiment"]["name"], time.strftime("%Y%m%d%H%M%S"))
os.makedirs(os.path.join(folder, "logs"))
with open(os.path.join(folder, "logs", "log.txt"), "w") as f:
    f.write("finished run successfully!\\n")
"""


def test_a_relative_output_dir_is_in_the_package_of_launch_pythons_robomimic(tmp_path, monkeypatch):
    """launch.train_script=robomimic is the train.py of the robomimic launch.python imports, not
    necessarily this interpreter's: a relative train.output_dir is in that package, where its
    train.py writes, so run mode records the runs' folders and finds its done markers again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    python = str(make_fork(tmp_path / "fork"))
    package = tmp_path / "fork" / "robomimic"
    (package / "scripts").mkdir()
    (package / "scripts" / "train.py").write_text(PACKAGE_RELATIVE_TRAIN)
    (tmp_path / "data.hdf5").write_bytes(b"x")
    request = make_request(tmp_path, params=SEEDS, mode="run", python=python, train_script="robomimic",
                           report=False, fixed={"train.data": str(tmp_path / "data.hdf5"), "train.output_dir": "out"})
    assert request.robomimic.folder == str(package)
    script = request.options.train_command(tmp_path, run_mode=True, robomimic=request.robomimic).script
    assert resolve_output_root("out", script, tmp_path) == package / "out"
    run_mode_in_process(request, tmp_path / "sd")
    rows = manifest_rows(tmp_path / "sd")
    assert [r["status"] for r in rows] == ["succeeded"] * 2
    assert [Path(r["output_dir"]).parent for r in rows] == [package / "out" / f"test_seed_{s}" for s in (1, 2)]
    assert "Skipping 2 of 2 runs that already finished" in run_mode_in_process(request, tmp_path / "sd")
    assert not (tmp_path / "out").exists()
