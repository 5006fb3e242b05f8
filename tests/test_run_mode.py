"""launch.mode=run: every run trained through a Hydra launcher, failures caught, finished runs kept."""
import json
import time
from pathlib import Path
from typing import List, Sequence

import pandas as pd
import pytest

from launcher.core.errors import SweepError
from launcher.options import robomimic_train_script
from tests.helpers import REPO, config_files, run_app, run_app_failing

DATA = Path(__file__).parent / "data"
SEED_NAMES = [
    "bc_rnn_hyper_plr_0.001_gmm_t_rnnd_400_mlp_1024",
    "bc_rnn_hyper_plr_0.001_gmm_t_rnnd_1000_mlp_0",
    "bc_rnn_hyper_plr_0.001_gmm_f_rnnd_400_mlp_1024",
    "bc_rnn_hyper_plr_0.001_gmm_f_rnnd_1000_mlp_0",
    "bc_rnn_hyper_plr_0.0001_gmm_t_rnnd_400_mlp_1024",
    "bc_rnn_hyper_plr_0.0001_gmm_t_rnnd_1000_mlp_0",
    "bc_rnn_hyper_plr_0.0001_gmm_f_rnnd_400_mlp_1024",
    "bc_rnn_hyper_plr_0.0001_gmm_f_rnnd_1000_mlp_0",
]


def seed_args(tmp_path: Path, sweep_dir: str = "sd", *extra: str) -> List[str]:
    dataset = tmp_path / "demo.hdf5"
    dataset.write_bytes(b"\x89HDF\r\n\x1a\n")
    return [
        "sweep=bc_rnn_hyper", "launch.mode=run", f"launch.train_script={REPO / 'train_stub.py'}",
        "experiment.name=bc_rnn_hyper", f"train.data={dataset}", f"train.output_dir={tmp_path / 'trained'}",
        f"hydra.sweep.dir={tmp_path / sweep_dir}", *extra,
    ]


def manifest(tmp_path: Path, sweep_dir: str = "sd") -> pd.DataFrame:
    return pd.read_json(tmp_path / sweep_dir / "manifest.jsonl", lines=True)


def assert_robomimic_layout(tmp_path: Path, names: Sequence[str]) -> None:
    for name in names:
        (run_dir,) = [p for p in (tmp_path / "trained" / name).iterdir() if not p.name.startswith(".")]
        assert len(run_dir.name) == 14 and run_dir.name.isdigit()  # YYYYmmddHHMMSS
        for sub in ("config.json", "logs/log.txt", "logs/tb", "models", "videos"):
            assert (run_dir / sub).exists(), run_dir / sub
        saved = json.loads((run_dir / "config.json").read_text())
        assert saved["experiment"]["name"] == name


def test_seed_sweep_trains_eight_runs_then_a_rerun_skips_them(tmp_path):
    out, err = run_app(seed_args(tmp_path))
    assert_robomimic_layout(tmp_path, SEED_NAMES)
    table = manifest(tmp_path)
    assert list(table["name"]) == SEED_NAMES
    assert set(table["status"]) == {"succeeded"} and set(table["exit_code"]) == {0}
    assert all(Path(p).is_file() for p in table["log"]) and all(Path(p).is_file() for p in table["config"])
    assert table.loc[0, "params"]["algo.rnn.hidden_dim"] == 400
    assert "[sweep] 8 done, 0 failed, 0 running, 0 left" in err  # plain progress lines off a terminal
    for name in SEED_NAMES:
        assert name in out  # summary table

    # The configs a run-mode job writes are the ones script mode writes.
    run_mode_configs = config_files(tmp_path / "sd" / "configs")
    run_app(["sweep=bc_rnn_hyper", "experiment.name=bc_rnn_hyper", f"train.data={tmp_path / 'demo.hdf5'}",
             f"train.output_dir={tmp_path / 'trained'}", f"hydra.sweep.dir={tmp_path / 'script'}"])
    assert config_files(tmp_path / "script" / "configs") == run_mode_configs

    out, _ = run_app(seed_args(tmp_path, "sd2"))
    assert "Skipping 8 of 8 runs that already finished" in out
    assert set(manifest(tmp_path, "sd2")["status"]) == {"skipped"}
    assert all(len([p for p in (tmp_path / "trained" / n).iterdir() if not p.name.startswith(".")]) == 1
               for n in SEED_NAMES)


def test_rerun_true_trains_again_and_answers_robomimics_prompt_with_no(tmp_path):
    run_app(seed_args(tmp_path, "sd", "train.seed=tag(name:seed,choice(1))"))
    time.sleep(1.1)  # robomimic's run folders are named to the second
    run_app(seed_args(tmp_path, "sd2", "train.seed=tag(name:seed,choice(1))", "launch.rerun=true"))
    table = manifest(tmp_path, "sd2")
    assert set(table["status"]) == {"succeeded"}
    for name in table["name"]:
        # The stub asked whether to delete the existing folder; "n" kept the first run.
        runs = [p for p in (tmp_path / "trained" / name).iterdir() if not p.name.startswith(".")]
        assert len(runs) == 2
        assert "already exists" in (tmp_path / "sd2" / "logs" / f"{name}.log").read_text()


def test_a_prompt_gets_one_answer_then_end_of_file(tmp_path):
    run_app(seed_args(tmp_path, "sd", f"launch.train_script={DATA / 'prompt_train.py'}", "train.seed=1"))
    log = (tmp_path / "sd" / "logs" / f"{SEED_NAMES[0]}.log").read_text()
    assert "answer='n'" in log and "stdin closed after the answer" in log


@pytest.mark.parametrize(
    "script, reason",
    [
        ("exit_nonzero_train.py", "exit code 3"),
        ("robomimic_crash_train.py", "CUDA out of memory"),
    ],
)
def test_failed_runs_fail_the_sweep_with_a_summary_and_are_not_recorded(tmp_path, script, reason):
    proc = run_app_failing(seed_args(tmp_path, "sd", f"launch.train_script={DATA / script}"))
    assert "8 of 8 runs failed" in proc.stderr and reason in proc.stderr
    assert "Traceback" not in proc.stderr
    for name in SEED_NAMES:
        assert name in proc.stdout  # every run is in the summary
    table = manifest(tmp_path)
    assert set(table["status"]) == {"failed"}
    assert all(reason in r for r in table["reason"])
    assert not list((tmp_path / "trained").rglob(".sweep_done/*")), "a failed run is never recorded as finished"


def test_one_failing_run_does_not_stop_the_others_and_is_retried_on_resume(tmp_path):
    extra = ["train.seed=tag(name:seed,choice(1,2))", f"launch.train_script={DATA / 'even_seed_fails_train.py'}"]
    proc = run_app_failing(seed_args(tmp_path, "sd", *extra))
    table = manifest(tmp_path)
    assert list(table[table["status"] == "failed"]["name"].str.endswith("_seed_2")) == [True] * 8
    assert list(table[table["status"] == "succeeded"]["name"].str.endswith("_seed_1")) == [True] * 8
    assert "8 of 16 runs failed" in proc.stderr

    proc = run_app_failing(seed_args(tmp_path, "sd2", *extra))
    assert "Skipping 8 of 16 runs" in proc.stdout and "8 of 16 runs failed" in proc.stderr


def test_missing_dataset_is_refused_before_launching(tmp_path):
    args = seed_args(tmp_path)
    args = [a if not a.startswith("train.data=") else f"train.data={tmp_path / 'gone.hdf5'}" for a in args]
    proc = run_app_failing(args)
    assert "gone.hdf5 does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "trained").exists() and not (tmp_path / "sd").exists()


def test_missing_train_script_is_refused_before_launching(tmp_path):
    proc = run_app_failing(seed_args(tmp_path, "sd", f"launch.train_script={tmp_path / 'nope.py'}"))
    assert "nope.py does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "sd").exists()


def test_train_script_robomimic_without_robomimic_is_a_clear_error(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(SweepError, match="needs robomimic installed"):
        robomimic_train_script()


def test_train_script_robomimic_resolves_the_installed_train_py(tmp_path):
    import robomimic

    assert robomimic_train_script() == Path(robomimic.__file__).parent / "scripts" / "train.py"


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_parallel_launchers_complete_the_seed_sweep(tmp_path, launcher):
    run_app(seed_args(tmp_path, "sd", f"hydra/launcher={launcher}"))
    assert_robomimic_layout(tmp_path, SEED_NAMES)
    assert set(manifest(tmp_path)["status"]) == {"succeeded"}


def test_relative_sweep_dir_with_jobs_that_change_directory(tmp_path):
    import subprocess
    import sys

    from tests.helpers import RUN_PY

    args = [a for a in seed_args(tmp_path) if not a.startswith("hydra.sweep.dir=")]
    proc = subprocess.run([sys.executable, RUN_PY, "-m", *args, "hydra.sweep.dir=relative_sd",
                           "hydra.job.chdir=true", "hydra/launcher=joblib"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert set(manifest(tmp_path, "relative_sd")["status"]) == {"succeeded"}
