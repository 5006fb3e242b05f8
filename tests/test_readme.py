"""The README's commands do what it says."""
import re
import shlex
import subprocess

from tests.helpers import REPO


def readme_commands():
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Install and run"):text.index("## Describing a sweep")]
    return [line for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()
            if line and not line.startswith("#")]


def test_main_command_trains_the_seed_sweep_with_the_stub(tmp_path):
    main = readme_commands()[0]
    install, run = main.split(" && ")
    assert install == "pip install -e ."
    # Keep its outputs out of the repository; later overrides win in Hydra.
    args = shlex.split(run) + [f"hydra.sweep.dir={tmp_path / 'sd'}", f"train.output_dir={tmp_path / 'trained'}"]
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "[sweep] 8 done, 0 failed" in proc.stderr
    assert len([p for p in (tmp_path / "trained").iterdir()]) == 8


def test_ci_runs_the_readme_test_command():
    test_command = [c for c in readme_commands() if "pytest" in c]
    assert len(test_command) == 1
    assert test_command[0] in (REPO / ".ci" / "run").read_text()
