"""Nothing lost, nothing half-written: existing files, failures mid-way, full and read-only disks."""
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from launcher.core.errors import SweepError
from launcher.modes import write_script
from launcher.output.staging import TMP_PREFIX, short_hash
from launcher.request.planning import make_plan
from tests.helpers import RUN_PY, make_request


def p(key, name, group, values, **kw):
    return {"key": key, "name": name, "group": group, "values": values, **kw}


SEEDS = [p("train.seed", "seed", 0, [1, 2])]


def write(tmp_path: Path, params=SEEDS, **kw) -> Path:
    request = make_request(tmp_path, params=params, **kw)
    write_script(make_plan(request), request, tmp_path / "sd")
    return request.options.config_dir


def snapshot(folder: Path):
    return {f.relative_to(folder): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


def hidden(folder: Path):
    return sorted(f.name for f in folder.rglob(".*"))


def test_a_rerun_is_idempotent_and_other_content_is_kept_unless_overwrite(tmp_path):
    configs = write(tmp_path)
    before = snapshot(tmp_path / "sd")
    write(tmp_path)  # identical: fine
    assert snapshot(tmp_path / "sd") == before

    with pytest.raises(SweepError) as err:
        write(tmp_path, fixed={"train.batch_size": 64})
    assert "test_seed_1.json" in str(err.value) and "run.sh" not in str(err.value)
    assert "launch.overwrite=true" in str(err.value) and "Nothing was written" in str(err.value)
    assert snapshot(tmp_path / "sd") == before, "nothing may change"

    write(tmp_path, fixed={"train.batch_size": 64}, overwrite=True)
    assert json.loads((configs / "test_seed_1.json").read_text())["train"]["batch_size"] == 64
    assert hidden(tmp_path / "sd") == []


def test_a_script_with_other_content_is_kept(tmp_path):
    write(tmp_path)
    (tmp_path / "sd" / "run.sh").write_text("#!/bin/bash\necho mine\n")
    with pytest.raises(SweepError, match="run.sh"):
        write(tmp_path)
    assert (tmp_path / "sd" / "run.sh").read_text() == "#!/bin/bash\necho mine\n"


def test_a_problem_found_late_leaves_an_existing_folder_as_it_was(tmp_path):
    configs = write(tmp_path)
    before = snapshot(tmp_path / "sd")
    # 3 runs: the first two are new content for existing names, the third collides with the second.
    params = [p("train.seed", "seed", 0, [1, 2, 2]), p("train.batch_size", "", 0, [7, 8, 9])]
    with pytest.raises(SweepError, match="two runs would both be named 'test_seed_2'"):
        write(tmp_path, params=params, overwrite=True)
    assert snapshot(tmp_path / "sd") == before
    assert hidden(configs) == [] and hidden(tmp_path / "sd") == []


def test_leftovers_of_a_killed_sweep_are_removed_by_the_next_one(tmp_path):
    configs = write(tmp_path)
    stale = [
        configs / f"{TMP_PREFIX}staging-1234-0-0.tmp",
        configs / f"{TMP_PREFIX}f-1234-0-1.tmp",
        tmp_path / "sd" / f"{TMP_PREFIX}staging-{short_hash('configs')}-1234-0-2.tmp",
        tmp_path / "sd" / f"{TMP_PREFIX}{short_hash('run.sh')}-1234-0-3.tmp",
    ]
    stale[0].mkdir()
    (stale[0] / "test_seed_1.json").write_text("half")
    for f in stale[1:]:
        f.mkdir() if "staging" in f.name else f.write_text("half")
    write(tmp_path)
    assert [f for f in stale if f.exists()] == []
    assert hidden(tmp_path / "sd") == []


def test_a_kill_during_a_big_emission_leaves_only_hidden_staging_which_the_next_sweep_removes(tmp_path):
    args = [sys.executable, RUN_PY, "train.seed=range(0,20000)", "train.batch_size=1,2",
            f"hydra.sweep.dir={tmp_path / 'sd'}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list((tmp_path / "sd").glob(f"{TMP_PREFIX}staging-*")) if (tmp_path / "sd").exists() else True:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert not (tmp_path / "sd" / "configs").exists() and not (tmp_path / "sd" / "run.sh").exists()
    write(tmp_path, config_dir=str(tmp_path / "sd" / "configs"))
    assert sorted(f.name for f in (tmp_path / "sd").iterdir()) == ["configs", "run.sh"]


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``folder`` for the ``with`` block, where the machine lets us mount one."""
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip(f"mounting a tmpfs ({options}) needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_full_disk_is_a_message_and_leaves_nothing(tmp_path):
    params = [p("train.seed", "seed", 0, list(range(100)))]  # 100 configs of ~6 KB: 600 KB
    with tmpfs(tmp_path / "disk", "size=256k") as small_disk:
        with pytest.raises(SweepError) as err:
            write(tmp_path, params=params, config_dir=str(small_disk / "configs"),
                  script_file=str(small_disk / "run.sh"))
        message = str(err.value)
        assert "No space left on device" in message and "free some space" in message
        assert str(small_disk) in message
        assert list(small_disk.iterdir()) == [], "no partial config, script or temporary file may stay"


def test_a_read_only_folder_is_a_message(tmp_path):
    with tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        with pytest.raises(SweepError, match="launch.config_dir: cannot write to .*ro/out: Read-only file system"):
            write(tmp_path, config_dir=str(folder / "out" / "configs"))
