"""The training command in run.sh: robomimic's own line by default, a real interpreter when asked."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.core.errors import SweepError
from launcher.modes import write_script
from launcher.request.planning import make_plan
from launcher.robomimic.train_command import robomimic_train_script, train_command
from tests.helpers import REPO, make_request

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
