"""launch.mode=run end to end: every run trained through a Hydra launcher, told truly.

Small sweeps (two or four runs of train_stub.py) keep these fast; the README's test
trains the shipped eight-run sweep.
"""
import io
import logging
import shutil
from pathlib import Path
from typing import List

import pandas as pd
import pytest

from launcher.core.status import Status
from launcher.report.write import read_report
from launcher.robomimic.train_command import robomimic_train_script
from launcher.run_mode.launch import print_summary
from launcher.run_mode.progress import Progress, ProgressMonitor
from launcher.run_mode.state import Row, run_hash
from tests.helpers import (
    REPO,
    config_files,
    emit_ours,
    make_request,
    manifest_rows,
    run_app,
    run_app_failing,
    run_mode_in_process,
)

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
    # Without a terminal, Hydra's line per job is left out: the progress lines say the same.
    assert "launch.run=" not in out and "#0 :" not in out

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


DEMO = REPO / "launcher" / "demo" / "tiny_lift_low_dim.hdf5"


def stub_sweep(tmp_path: Path, sd: str, seeds: List[int] = [1, 2], **launch) -> str:
    """Train ``seeds`` with the stub, in this process, into sweep folder ``sd``."""
    request = make_request(tmp_path, mode="run", train_script="stub", report=False, **launch,
                           config_dir=str(tmp_path / sd / "configs"), script_file=str(tmp_path / sd / "run.sh"),
                        params=[{"key": "train.seed", "name": "seed", "group": 0, "values": seeds}],
                        fixed={"train.data": str(DEMO), "train.output_dir": str(tmp_path / "trained"),
                               "train.num_epochs": 2})
    return run_mode_in_process(request, tmp_path / sd)


def test_a_run_counts_as_finished_only_for_the_same_command_and_while_its_output_is_there(tmp_path):
    """A smoke sweep with other arguments never passes for the real one, and a run whose
    output folder was deleted trains again (its metrics and checkpoints are gone)."""
    # Another name, so that it writes elsewhere (the real runs may start within the same second).
    stub_sweep(tmp_path, "smoke", seeds=[1], extra_args=["--name", "smoke"])
    out = stub_sweep(tmp_path, "real")
    assert "Skipping" not in out
    real = manifest_rows(tmp_path / "real")
    assert [r["status"] for r in real] == ["succeeded", "succeeded"]
    shutil.rmtree(real[0]["output_dir"])
    report = read_report(str(tmp_path / "real"))
    gone = next(r for r in report.runs if r.name == "test_seed_1")
    assert (gone.status, gone.metrics, gone.best_checkpoint(report.ranking.metric)) == ("missing", {}, "")
    assert gone.reason == f"its output folder {real[0]['output_dir']} is gone (deleted or moved)"
    out = stub_sweep(tmp_path, "again")
    assert "Training 1 run(s) again that finished before: their output folders are gone" in out
    assert [r["status"] for r in manifest_rows(tmp_path / "again")] == ["succeeded", "skipped"]


@pytest.mark.parametrize("other", [
    pytest.param(["/other/python", "train.py"], id="another-interpreter"),
    pytest.param(["python", "other_train.py"], id="another-train-script"),
    pytest.param(["python", "train.py", "--debug"], id="extra-args"),
    pytest.param(["python", "train.py --debug"], id="words-not-text"),
])
def test_the_resume_marker_covers_the_command(other):
    assert run_hash("{}", ["python", "train.py"]) != run_hash("{}", other)
    assert run_hash("{}", ["python", "train.py"]) == run_hash("{}", ("python", "train.py"))


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
    print_summary(rows, Progress(rows, save=lambda: None), tmp_path / "m.jsonl", tmp_path)
    out = capsys.readouterr().out
    if n <= 50:
        assert len(out.splitlines()) == n + 1 and "run_2" in out  # a table
    else:
        assert out.splitlines() == [f"51 runs: 51 done, 0 failed, 0 running, 0 left, 0 skipped; all runs: {tmp_path / 'm.jsonl'}"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("launcher", ["hydra._internal.core_plugins.basic_launcher",
                                      "hydra_plugins.hydra_joblib_launcher._core"], ids=["basic", "joblib"])
@pytest.mark.parametrize("terminal", [False, True], ids=["no-terminal", "a-terminal"])
def test_hydras_line_per_job_is_left_out_without_a_terminal(tmp_path, monkeypatch, terminal, launcher):
    """The progress lines say what Hydra's `#N : launch.run=...` lines say; in a log file
    the two interleaved. (joblib's launcher makes its logger only when it first launches.)"""
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    logging.getLogger().addHandler(handler)
    monkeypatch.delitem(logging.root.manager.loggerDict, launcher, raising=False)
    rows = _rows(1, Status.PENDING)
    try:
        progress = Progress(rows, save=lambda: None)
        with ProgressMonitor(progress, _Tty() if terminal else io.StringIO()):
            launcher_log = logging.getLogger(launcher)
            launcher_log.setLevel(logging.INFO)
            launcher_log.info("Launching 1 jobs locally")
            launcher_log.info("\t#0 : launch.run='run_0'")
        launcher_log.info("\t#1 : launch.run='run_1'")
    finally:
        logging.getLogger().removeHandler(handler)
    shown = logged.getvalue().splitlines()
    assert shown == ["Launching 1 jobs locally", *(["\t#0 : launch.run='run_0'"] if terminal else []),
                     "\t#1 : launch.run='run_1'"]
