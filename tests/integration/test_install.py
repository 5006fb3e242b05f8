"""A non-editable install in a fresh virtual environment works from an empty folder.

What a user does after ``pip install .``: the console script, ``python -m launcher``,
the shipped sweep in script mode, run mode with the shipped stub and demo data (and
the report), and a sweep file of their own through ``--config-dir``.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.integration


def _copy_of_the_checkout(target: Path) -> Path:
    """The tracked tree, without what an editable install or a test run left in the checkout."""
    skip = shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", "multirun", "outputs", "site",
                                  "trained_models", ".pytest_cache")
    shutil.copytree(REPO, target, ignore=skip)
    return target


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("install")
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    source = _copy_of_the_checkout(root / "src")
    subprocess.run([str(env / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(source)],
                   check=True)
    shutil.rmtree(source)  # the installed launcher must not need the checkout
    return env


def run(env: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env={"PATH": f"{env / 'bin'}:/usr/bin:/bin", "HOME": str(cwd)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_help_from_an_empty_folder(venv, tmp_path):
    out = run(venv, tmp_path, str(venv / "bin" / "robomimic-sweep"), "--help").stdout
    assert "== launch options (launch.NAME=value) ==" in out and "sweep=bc_rnn_hyper" in out


def test_the_shipped_sweep_in_script_mode(venv, tmp_path):
    proc = run(venv, tmp_path, str(venv / "bin" / "robomimic-sweep"), "sweep=bc_rnn_hyper",
               "experiment.name=bc_rnn_hyper", "hydra.sweep.dir=sd")
    assert f"Wrote 8 robomimic configs to {tmp_path / 'sd' / 'configs'} (checked against robomimic 0.5.0, " \
           "bundled schema)" in proc.stdout
    assert len(list((tmp_path / "sd" / "configs").glob("*.json"))) == 8


def test_run_mode_with_the_shipped_stub_and_demo_data(venv, tmp_path):
    proc = run(venv, tmp_path, str(venv / "bin" / "python"), "-m", "launcher", "sweep=bc_rnn_hyper",
               "experiment.name=bc_rnn_hyper", "launch.mode=run", "launch.train_script=stub", "dataset=demo",
               "train.output_dir=trained_models", "train.num_epochs=3", "hydra.sweep.dir=sd")
    assert "[sweep] 8 done, 0 failed" in proc.stderr
    assert "Best 5 of 8 runs" in proc.stdout
    assert (tmp_path / "sd" / "results.md").is_file()
    assert len(list((tmp_path / "trained_models").iterdir())) == 8
    script = (tmp_path / "sd" / "run.sh").read_text()
    assert str(venv / "lib") in script.splitlines()[2]  # the installed stub, with the venv's Python


def test_a_sweep_file_of_ones_own(venv, tmp_path):
    (tmp_path / "mine" / "sweep").mkdir(parents=True)
    (tmp_path / "mine" / "sweep" / "seeds.yaml").write_text(
        "params:\n  - {key: train.seed, name: seed, group: 0, values: [1, 2, 3]}\n")
    proc = run(venv, tmp_path, str(venv / "bin" / "robomimic-sweep"), "--config-dir", "mine", "sweep=seeds",
               "launch.mode=list")
    # No robomimic in this environment: checked against the newest bundled release.
    assert proc.stdout.splitlines()[-1] == ("3 runs (launch.mode=list: nothing written; checked against robomimic "
                                            "0.5.0, bundled schema)")
