"""``python -m launcher.status``, in process: what it prints, the manifest it rewrites, bad sweep dirs;
and the ETA both it and the sweeper's progress line show."""
import json
import subprocess
import sys

import pytest

from launcher.core.status import Status
from launcher.run_mode.progress import eta_s
from launcher.status import main
from tests.helpers import REPO, make_request, manifest_rows, run_mode_in_process


@pytest.mark.parametrize("pending, running_for, finished, slots, eta", [
    (0, [], [], 1, None),  # nothing finished yet: no estimate
    (10, [], [60.0, 60.0], 2, 300.0),  # ten 60-s runs on two slots
    (0, [45.0], [60.0], 4, 15.0),  # the last run needs what it has not done yet
    (1, [59.0], [60.0], 8, 60.0),  # a pending run takes a whole run, however many slots
    (3, [90.0], [60.0], 1, 180.0),  # a run over the mean still counts as ending now
])
def test_eta(pending, running_for, finished, slots, eta):
    assert eta_s(pending, running_for, finished, slots) == eta


def test_status_of_a_local_sweep_counts_and_rewrites_the_manifest(tmp_path, capsys):
    (tmp_path / "data.hdf5").write_bytes(b"x")
    (tmp_path / "train.py").write_text("import sys\nsys.exit(3 if '_seed_2' in open(sys.argv[2]).read() else 0)\n")
    request = make_request(tmp_path, cli=["train.seed=1,2"], mode="run", train_script="train.py", report=False,
                           fixed={"train.data": str(tmp_path / "data.hdf5"), "train.output_dir": str(tmp_path / "o")})
    with pytest.raises(Exception, match="1 of 2 runs failed"):
        run_mode_in_process(request, tmp_path / "sd")
    manifest = tmp_path / "sd" / "manifest.jsonl"
    rows = manifest_rows(tmp_path / "sd")
    for row in rows:
        row.update(status="pending", reason="")  # a stale view: status judges again from the records
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main([str(tmp_path / "sd")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{tmp_path / 'sd'}: 2 runs: 1 done, 1 failed, 0 running, 0 left, 0 skipped"
    assert "attempts: 2 (0 run(s) started more than once); ETA done" in out
    assert [(r["status"], r["reason"]) for r in manifest_rows(tmp_path / "sd")] == [
        (Status.SUCCEEDED, ""), (Status.FAILED, "exit code 3")]


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "is not a folder"),
    (lambda d: d.mkdir(), "has no manifest.jsonl: not a run-mode sweep dir (launch.mode=run)"),
    (lambda d: (d.mkdir(), (d / "manifest.jsonl").write_text('{"name": "a"}\nnot json\n')),
     "manifest.jsonl, line 2: not a manifest row"),
])
def test_a_sweep_dir_status_cannot_read_is_named_without_a_traceback(tmp_path, make, message):
    make(tmp_path / "sd")
    proc = subprocess.run([sys.executable, "-m", "launcher.status", str(tmp_path / "sd")], capture_output=True,
                          text=True, cwd=REPO)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
