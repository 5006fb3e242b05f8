"""launch.mode=run end to end: every run trained through a Hydra launcher, told truly.

Small sweeps (two or four runs of train_stub.py) keep these fast; the README's test
trains the shipped eight-run sweep.
"""
from pathlib import Path
from typing import List

import pandas as pd
import pytest

from launcher.core.status import Status
from launcher.robomimic.train_command import robomimic_train_script
from launcher.run_mode.launch import print_summary
from launcher.run_mode.progress import Progress
from launcher.run_mode.state import LaunchDir, Row
from tests.helpers import REPO, config_files, emit_ours, run_app, run_app_failing

DATA = Path(__file__).parent / "data"
STUB = REPO / "train_stub.py"


def args(tmp_path: Path, sd: str = "sd", *extra: str, seeds: str = "1,2") -> List[str]:
    (tmp_path / "data.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n")
    return [f"train.seed={seeds}", "launch.mode=run", f"launch.train_script={STUB}", f"train.data={tmp_path / 'data.hdf5'}",
            f"train.output_dir={tmp_path / 'trained'}", f"hydra.sweep.dir={tmp_path / sd}", "train.num_epochs=5",
            "launch.report=false", *extra]  # the report has its own tests; the README's command writes one


def manifest(tmp_path: Path, sd: str = "sd") -> pd.DataFrame:
    return pd.read_json(tmp_path / sd / "manifest.jsonl", lines=True)


def run_folders(tmp_path: Path, name: str) -> List[Path]:
    return sorted(p for p in (tmp_path / "trained" / name).iterdir() if not p.name.startswith("."))


def test_runs_train_in_robomimics_layout_and_a_rerun_in_a_new_sweep_dir_skips_them(tmp_path):
    out, err = run_app(args(tmp_path))
    table = manifest(tmp_path)
    assert list(table["name"]) == ["test_seed_1", "test_seed_2"]
    assert list(table["status"]) == ["succeeded"] * 2 and list(table["exit_code"]) == [0, 0]
    assert table.loc[0, "params"] == {"train.seed": 1}
    for name, output_dir in zip(table["name"], table["output_dir"]):
        (run_dir,) = run_folders(tmp_path, name)
        assert str(run_dir) == output_dir and len(run_dir.name) == 14 and run_dir.name.isdigit()
        for sub in ("config.json", "logs/log.txt", "logs/tb", "videos"):
            assert (run_dir / sub).exists(), run_dir / sub
    assert "[sweep] 2 done, 0 failed, 0 running, 0 left" in err and "Launching 2 runs" in out
    # Hydra's launch lines show the run, nothing internal.
    assert "#0 : launch.run='test_seed_1'" in out and ".sweep" not in out.split("Launching")[1].split("run ")[0]

    # Run mode wrote the configs and run.sh script mode writes.
    script_mode = emit_ours(tmp_path / "script", None, [a for a in args(tmp_path) if not a.startswith(("launch.", "hydra."))])
    assert config_files(script_mode) == config_files(tmp_path / "sd" / "configs")

    out, _ = run_app(args(tmp_path, "sd2"))
    assert "Skipping 2 of 2 runs that already finished" in out
    table2 = manifest(tmp_path, "sd2")
    assert set(table2["status"]) == {"skipped"}
    # Skipped rows point at the finished run's own config, log and output folder.
    assert list(table2["config"]) == list(table["config"]) and list(table2["log"]) == list(table["log"])
    assert list(table2["output_dir"]) == list(table["output_dir"])
    assert all(len(run_folders(tmp_path, n)) == 1 for n in table["name"])

    # launch.rerun=true trains them again; robomimic's "overwrite?" prompt gets "n", which
    # keeps the first run (the sweeps above took over a second: run folders are named to it).
    run_app(args(tmp_path, "sd3", "launch.rerun=true"))
    assert list(manifest(tmp_path, "sd3")["status"]) == ["succeeded"] * 2
    assert all(len(run_folders(tmp_path, n)) == 2 for n in table["name"])
    assert "already exists" in (tmp_path / "sd3" / "logs" / "test_seed_1.log").read_text()


def test_a_relaunch_into_the_same_sweep_dir_never_replays_old_outcomes(tmp_path):
    """A job that dies without a word is failed with the launcher's reason, even where an
    earlier launch in the same sweep dir succeeded with the same runs."""
    run_app(args(tmp_path, "sd"))
    assert set(manifest(tmp_path)["status"]) == {"succeeded"}
    proc = run_app_failing(args(tmp_path, "sd", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                f"launch.train_script={DATA / 'kills_its_job_train.py'}", "launch.rerun=true",
                                "launch.overwrite=true"))  # run.sh names another train script
    table = manifest(tmp_path)
    assert list(table["status"]) == ["failed", "failed"], table
    # Started and died, or never started because the launcher gave up: either way the launcher's reason.
    assert all(r.startswith(("its job ended without recording an outcome (the launcher said: TerminatedWorkerError",
                             "not run: the launcher failed: TerminatedWorkerError")) for r in table["reason"]), \
        list(table["reason"])
    assert "2 of 2 runs failed" in proc.stderr and "Traceback" not in proc.stderr


def test_failed_runs_say_why_do_not_stop_the_others_and_run_again_on_resume(tmp_path):
    extra = [f"launch.train_script={DATA / 'seed_decides_train.py'}"]
    proc = run_app_failing(args(tmp_path, "sd", *extra, seeds="1,2,3"))
    table = manifest(tmp_path)
    assert list(table["status"]) == ["succeeded", "failed", "failed"]
    # A non-zero exit: the code and the log's last line; robomimic's exit-0 crash: its error.
    assert list(table["reason"]) == ["", "exit code 3: something went wrong", "CUDA out of memory"]
    assert "2 of 3 runs failed (first: test_seed_2: exit code 3: something went wrong)" in proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("test_seed_2", "test_seed_3"):
        assert f"{name}  failed" in proc.stdout  # the summary
    recorded = {p.parent.parent.name for p in (tmp_path / "trained").rglob(".sweep_done/*")}
    assert recorded == {"test_seed_1"}, "a failed run is never recorded as finished"

    proc = run_app_failing(args(tmp_path, "sd2", *extra, seeds="1,2,3"))
    assert "Skipping 1 of 3 runs" in proc.stdout and "Launching 2 runs (checked against" in proc.stdout
    assert list(manifest(tmp_path, "sd2")["status"]) == ["skipped", "failed", "failed"]


def test_a_prompt_gets_one_answer_then_end_of_file(tmp_path):
    run_app(args(tmp_path, "sd", f"launch.train_script={DATA / 'prompt_train.py'}", seeds="choice(1)"))
    log = (tmp_path / "sd" / "logs" / "test_seed_1.log").read_text()
    assert "answer='n'" in log and "stdin closed after the answer" in log


@pytest.mark.integration  # slower to start; the GPU test runs it too
def test_submitit_local_launcher(tmp_path):
    run_app(args(tmp_path, "sd", "hydra/launcher=submitit_local"))
    assert list(manifest(tmp_path)["status"]) == ["succeeded"] * 2
    assert all(len(run_folders(tmp_path, n)) == 1 for n in ("test_seed_1", "test_seed_2"))


def test_train_script_robomimic_without_robomimic_is_a_clear_error(monkeypatch):
    import importlib.util

    from launcher.core.errors import SweepError

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(SweepError, match="needs robomimic installed"):
        robomimic_train_script()


def test_train_script_robomimic_resolves_the_installed_train_py():
    import robomimic

    assert robomimic_train_script() == Path(robomimic.__file__).parent / "scripts" / "train.py"


def _rows(n: int, status: str) -> List[Row]:
    rows = [Row(i, f"run_{i}", (i,)) for i in range(n)]
    for row in rows:
        row.status = status
    return rows


@pytest.mark.parametrize("n", [3, 51])
def test_summary_of_a_clean_sweep(tmp_path, capsys, n):
    rows = _rows(n, Status.SUCCEEDED)
    print_summary(rows, Progress(rows, LaunchDir(tmp_path), save=lambda: None), tmp_path / "m.jsonl", tmp_path)
    out = capsys.readouterr().out
    if n <= 50:
        assert len(out.splitlines()) == n + 1 and "run_2" in out  # a table
    else:
        assert out.splitlines() == [f"51 runs: 51 done, 0 failed, 0 running, 0 left, 0 skipped; all runs: {tmp_path / 'm.jsonl'}"]
