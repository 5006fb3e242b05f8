"""One sweep at a time per target: a second sweep stops, names the holder, and writes nothing."""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from launcher.core.errors import SweepError
from launcher.modes import write_script
from launcher.output.locks import CLAIMS_DIR, Locks, holder_note
from launcher.request.planning import make_plan
from tests.helpers import REPO, RUN_PY, make_request


def p(key, name, group, values, **kw):
    return {"key": key, "name": name, "group": group, "values": values, **kw}


def write(tmp_path: Path, **kw) -> None:
    request = make_request(tmp_path, params=[p("train.seed", "seed", 0, [1, 2])], **kw)
    write_script(make_plan(request), request, tmp_path / "sd")


def other_sweep(tmp_path: Path) -> Locks:
    """Another live sweep, in this process (flock works between open files, as between processes)."""
    return Locks(holder_note(tmp_path / "elsewhere"))


@pytest.mark.parametrize("target, what", [("sd/configs", "launch.config_dir"), ("sd/run.sh", "launch.script_file")])
def test_a_second_sweep_on_the_same_target_stops_and_names_the_holder(tmp_path, target, what):
    (tmp_path / "sd").mkdir()
    with other_sweep(tmp_path) as holder:
        holder.lock(tmp_path / target, what)
        with pytest.raises(SweepError) as err:
            write(tmp_path)
        message = str(err.value)
        assert f"{what} {tmp_path / target} is in use by another sweep" in message
        assert f"pid {os.getpid()}" in message and str(tmp_path / "elsewhere") in message
        assert sorted(f.name for f in (tmp_path / "sd").iterdir() if not f.name.endswith(".lock")) == []
    write(tmp_path)  # released: fine now
    assert sorted(f.name for f in (tmp_path / "sd").iterdir()) == ["configs", "run.sh"], "no lock file is left"


def test_two_sweeps_started_together_never_mix_their_configs(tmp_path):
    """Different content into one existing config dir, at the same time: one wins whole, or both
    run one after the other and the second refuses; never a mix, never a crash."""
    (tmp_path / "shared").mkdir()
    procs = [
        subprocess.Popen([sys.executable, RUN_PY, "train.seed=range(0,300)", f"train.batch_size={bs}",
                          f"launch.config_dir={tmp_path / 'shared'}", f"launch.script_file={tmp_path / f'run{bs}.sh'}",
                          f"hydra.sweep.dir={tmp_path / f'sd{bs}'}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for bs in (16, 32)
    ]
    results = [proc.communicate(timeout=120) + (proc.returncode,) for proc in procs]
    assert [code for _, _, code in results].count(0) == 1, results
    for out, err, code in results:
        assert "Traceback" not in err
        if code != 0:
            assert "is in use by another sweep" in err or "already exist with other content" in err
    import json

    sizes = {json.loads(f.read_text())["train"]["batch_size"] for f in (tmp_path / "shared").glob("*.json")}
    assert len(sizes) == 1 and len(list((tmp_path / "shared").glob("*.json"))) == 300


def run_mode_args(tmp_path: Path, sd: str):
    (tmp_path / "data.hdf5").write_bytes(b"x")
    return [sys.executable, RUN_PY, "train.seed=1,2", "launch.mode=run", f"launch.train_script={REPO / 'train_stub.py'}",
            f"train.data={tmp_path / 'data.hdf5'}", f"train.output_dir={tmp_path / 'trained'}",
            f"hydra.sweep.dir={tmp_path / sd}", "train.num_epochs=5", "launch.report=false"]


def test_a_run_mode_sweep_does_not_train_runs_another_live_sweep_is_training(tmp_path):
    claims = tmp_path / "trained" / CLAIMS_DIR
    with other_sweep(tmp_path) as holder:
        holder.claim_outputs(tmp_path / "trained", {"test_seed_2"}, "other")
        (claims / "dead.claim").write_text('{"pid": 1}\ntest_seed_1\n')  # a dead sweep's: nobody holds it
        proc = subprocess.run(run_mode_args(tmp_path, "sd"), capture_output=True, text=True)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert "run test_seed_2 would train into" in proc.stderr and f"pid {os.getpid()}" in proc.stderr
        assert not (tmp_path / "sd" / "configs").exists() and not (tmp_path / "sd" / "manifest.jsonl").exists()
        assert not (claims / "dead.claim").exists(), "a dead sweep's claim is removed, not obeyed"
    # The holder is gone (and its claim with it): the same sweep runs.
    proc = subprocess.run(run_mode_args(tmp_path, "sd"), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert set(pd.read_json(tmp_path / "sd" / "manifest.jsonl", lines=True)["status"]) == {"succeeded"}
    assert not claims.exists(), "claims leave no trace"
