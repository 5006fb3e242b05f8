"""The README's commands do what it says, and CI runs the ones it marks."""
import re
import shlex
import subprocess

from tests.helpers import REPO

README = (REPO / "README.md").read_text()


def readme_commands(start: str, end: str):
    section = README[README.index(start):README.index(end)]
    return [line for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()
            if line and not line.startswith("#")]


def test_main_command_trains_the_seed_sweep_with_the_stub(tmp_path):
    main = readme_commands("## Install and run", "### Tests")[0]
    install, run = main.split(" && ")
    assert install == "pip install -e ."
    # Keep its outputs out of the repository; later overrides win in Hydra. Fewer epochs, same wiring.
    args = shlex.split(run) + [f"hydra.sweep.dir={tmp_path / 'sd'}", f"train.output_dir={tmp_path / 'trained'}",
                               "train.num_epochs=5"]
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "[sweep] 8 done, 0 failed" in proc.stderr
    assert len([p for p in (tmp_path / "trained").iterdir()]) == 8
    # Run mode ends with the results report and the best runs.
    assert "Best 5 of 8 runs by train_loss_last (lower is better)" in proc.stdout
    assert (tmp_path / "sd" / "results.csv").read_text().count("\n") == 9


def test_ci_runs_the_commands_the_readme_marks():
    ci = (REPO / ".ci" / "run").read_text()
    for marker in ("tests", "integration"):
        match = re.search(r"<!-- ci: %s -->\s*```sh\n(.*?)\n```" % marker, README, re.S)
        assert match and "\n" not in match.group(1), f"README has one command marked {marker}"
        assert f"readme_command {marker}" in ci
    assert "python -m pytest" in re.search(r"<!-- ci: tests -->\s*```sh\n(.*?)\n```", README, re.S).group(1)
