"""GPUs shared on one machine: each run sees exactly one device, never more than runs_per_gpu
runs share one at once, and a slot comes back however its holder ends. Tested without GPUs:
the train script records the device it was given and when it ran."""
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pandas as pd
import pytest

from launcher.core.errors import SweepError
from launcher.request.planning import make_plan
from launcher.run_mode import gpus
from launcher.run_mode.launch import HydraJobs, launch_sweep
from tests.helpers import REPO, RUN_PY, make_request

SLEEPY = REPO / "tests" / "data" / "sleepy_train.py"


@pytest.fixture
def slots_dir(tmp_path, monkeypatch):
    """A private slots folder, so tests never share slots with a real sweep on this machine."""
    folder = tmp_path / "slots"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(gpus.SLOTS_ENV, str(folder))
    return folder


@pytest.fixture
def slots(slots_dir):
    return gpus.Slots.prepare()


def max_overlap(records: List[Dict], device: str) -> int:
    spans = [(r["start"], r["end"]) for r in records if r["gpu"] == device]
    return max((sum(1 for s, e in spans if s < end and e > start) for start, end in spans), default=0)


@pytest.mark.parametrize(
    "launcher, runs_per_gpu",
    [
        pytest.param("joblib", 1, id="joblib"),
        # The same job code under another launcher; slower to start, so with the integration suite.
        pytest.param("submitit_local", 2, id="submitit_local", marks=pytest.mark.integration),
    ],
)
def test_runs_are_spread_over_the_gpus_within_the_bound(tmp_path, slots_dir, launcher, runs_per_gpu):
    """Also: jobs that change directory (hydra.job.chdir) under a relative sweep dir find their launch."""
    (tmp_path / "data.hdf5").write_bytes(b"x")
    (tmp_path / "sleepy").mkdir()
    env = dict(os.environ, SLEEPY_DIR=str(tmp_path / "sleepy"), SLEEPY_SECONDS="0.3")
    extra = ["hydra.launcher.n_jobs=3"] if launcher == "joblib" else []
    proc = subprocess.run(
        [sys.executable, RUN_PY, "train.seed=range(0,4)", "launch.mode=run", "launch.report=false",
         f"launch.train_script={SLEEPY}", "train.data=data.hdf5", f"train.output_dir={tmp_path / 'trained'}",
         "hydra.sweep.dir=relative_sd", "hydra.job.chdir=true", f"hydra/launcher={launcher}", "launch.gpus=[3,5]",
         f"launch.runs_per_gpu={runs_per_gpu}", *extra],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (tmp_path / "sleepy" / "runs.jsonl").read_text().splitlines()]
    assert len(records) == 4
    assert {r["gpu"] for r in records} == {"3", "5"}, "every run sees one device, and both are used"
    assert all(r["egl"] == r["gpu"] for r in records)
    for device in ("3", "5"):
        assert max_overlap(records, device) <= runs_per_gpu
    table = pd.read_json(tmp_path / "relative_sd" / "manifest.jsonl", lines=True)
    assert list(table["status"]) == ["succeeded"] * 4
    assert sorted(table["gpu"]) == sorted(int(r["gpu"]) for r in records)


def test_the_least_busy_device_is_taken_and_a_full_machine_waits(slots):
    first = slots.try_take(["0", "1"], 2)
    second = slots.try_take(["0", "1"], 2)
    assert {first.device, second.device} == {"0", "1"}, "the second run goes to the idle device"
    third, fourth = slots.try_take(["0", "1"], 2), slots.try_take(["0", "1"], 2)
    assert {third.device, fourth.device} == {"0", "1"}
    assert slots.try_take(["0", "1"], 2) is None, "4 slots, 4 runs: the fifth waits"
    second.release()
    assert slots.try_take(["0", "1"], 2).device == second.device


def test_a_slot_comes_back_when_its_holder_dies(slots):
    """Two sweeps share the machine's slots; a killed holder frees its slot (the kernel drops the flock)."""
    code = ("import sys, time; from launcher.run_mode import gpus; "
            "s = gpus.Slots.prepare().try_take(['0'], 1); print(s.device, flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert holder.stdout.readline().strip() == "0"
    assert slots.try_take(["0"], 1) is None, "another process holds the only slot"
    holder.kill()
    holder.wait()
    assert slots.try_take(["0"], 1) is not None


# -- which devices: launch.gpus counts among the visible devices, as CUDA does ------------------

@pytest.mark.parametrize(
    "visible, requested, expected",
    [
        pytest.param(None, (0, 1), ("0", "1"), id="nothing-hidden"),
        pytest.param("2,3", (0, 1), ("2", "3"), id="ids-count-among-the-visible"),
        pytest.param("2,3", (1,), ("3",), id="the-second-visible"),
        pytest.param("2,7", "auto", ("2", "7"), id="auto-takes-the-visible"),
        pytest.param("GPU-8f3c2a1e-0000-1111-2222-333344445555,MIG-5c7e", "auto",
                     ("GPU-8f3c2a1e-0000-1111-2222-333344445555", "MIG-5c7e"), id="auto-keeps-uuids-and-mig"),
        pytest.param("GPU-aaaa, GPU-bbbb", (1,), ("GPU-bbbb",), id="an-id-of-a-uuid-list"),
    ],
)
def test_devices_are_named_as_cuda_visible_devices_names_them(monkeypatch, visible, requested, expected):
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert gpus.devices(requested) == expected


@pytest.mark.parametrize(
    "visible, requested, fragment",
    [
        pytest.param("2,3", (0, 2), "CUDA_VISIBLE_DEVICES=2,3 shows 2 device(s), numbered 0 to 1",
                     id="outside-the-visible"),
        pytest.param("", "auto", "CUDA_VISIBLE_DEVICES is empty", id="auto-with-none-visible"),
    ],
)
def test_devices_the_run_cannot_see_are_refused(monkeypatch, visible, requested, fragment):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    with pytest.raises(SweepError, match=re.escape(fragment)):
        gpus.devices(requested)


@pytest.mark.parametrize(
    "device, env, recorded",
    [
        pytest.param("3", {"CUDA_VISIBLE_DEVICES": "3", "MUJOCO_EGL_DEVICE_ID": "3"}, 3, id="an-index"),
        pytest.param("GPU-aaaa", {"CUDA_VISIBLE_DEVICES": "GPU-aaaa"}, "GPU-aaaa", id="a-uuid-has-no-egl-id"),
    ],
)
def test_a_run_sees_its_device(slots, device, env, recorded):
    slot = slots.try_take([device], 1)
    assert (slot.env(), slot.manifest_value) == (env, recorded)


# -- the slots folder and its lock files: nothing another user plants is followed -------------

def test_the_default_slots_folder_is_this_users_own(tmp_path, monkeypatch):
    monkeypatch.delenv(gpus.SLOTS_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    slots = gpus.Slots.prepare()
    assert slots.folder.parent == tmp_path / "cache" / "robomimic-sweep"
    assert not str(slots.folder).startswith("/tmp/robomimic"), "no fixed path another user can take first"
    assert stat.S_IMODE(slots.folder.stat().st_mode) == 0o700 and not slots.shared


def _link_to_a_private_file(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bashrc"
    target.write_text("secret")
    target.chmod(0o600)
    (folder / "gpu0-0.lock").symlink_to(target)
    return target


def _dangling_link(folder: Path, tmp_path: Path) -> Path:
    (folder / "gpu0-0.lock").symlink_to(tmp_path / "planted")
    return tmp_path / "planted"


@pytest.mark.parametrize("plant", [_link_to_a_private_file, _dangling_link],
                         ids=["link-to-a-0600-file", "dangling-link"])
def test_a_lock_file_that_is_a_link_is_refused_and_its_target_untouched(tmp_path, slots, plant):
    target = plant(slots.folder, tmp_path)
    with pytest.raises(SweepError, match=f"GPU slot {re.escape(str(slots.folder / 'gpu0-0.lock'))} is a symbolic link"):
        slots.try_take(["0"], 1)
    if target.name == "planted":
        assert not target.exists(), "nothing is made where a link points"
    else:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_lock_files_are_made_read_only_for_others_and_never_chmoded(slots):
    slots.try_take(["0"], 1).release()
    os.chmod(slots.folder / "gpu0-0.lock", 0o600)
    slots.try_take(["0"], 1).release()
    assert stat.S_IMODE((slots.folder / "gpu0-0.lock").stat().st_mode) == 0o600
    slots.try_take(["1"], 1).release()
    assert not stat.S_IMODE((slots.folder / "gpu1-0.lock").stat().st_mode) & 0o022


def test_another_users_lock_file_counts_only_in_a_shared_folder(slots_dir, monkeypatch):
    (slots_dir / "gpu0-0.lock").write_text("")
    monkeypatch.setattr(gpus, "_me", lambda: 4242)  # the lock file (and its folder) are root's now
    with pytest.raises(SweepError, match="gpu0-0.lock belongs to another user"):
        gpus.Slots.prepare().try_take(["0"], 1)
    slots_dir.chmod(0o1777)
    assert gpus.Slots.prepare().try_take(["0"], 1).device == "0"


def _symlink(folder: Path) -> None:
    folder.rename(folder.with_name("real"))
    folder.symlink_to(folder.with_name("real"))


def _regular_file(folder: Path) -> None:
    folder.rmdir()
    folder.write_text("")


@pytest.mark.parametrize(
    "make_unsafe, fragment",
    [
        pytest.param(_symlink, "is a symbolic link", id="a-symlink"),
        pytest.param(_regular_file, "is not a folder", id="a-regular-file"),
        pytest.param(lambda f: f.rmdir(), "does not exist; make it", id="missing"),
        pytest.param(lambda f: f.chmod(0o777), "make it sticky", id="others-may-empty-it"),
        pytest.param(lambda f: os.chown(f, 4242, 4242), "belongs to another user (uid 4242)", id="foreign"),
    ],
)
def test_an_unsafe_slots_folder_is_refused_up_front_naming_it(tmp_path, slots_dir, make_unsafe, fragment):
    """Before anything is written: a run-mode sweep with launch.gpus checks the folder first."""
    make_unsafe(slots_dir)
    (tmp_path / "data.hdf5").write_bytes(b"x")
    (tmp_path / "train.py").write_text("")
    request = make_request(tmp_path, mode="run", gpus=[0], params=[{"key": "train.seed", "name": "s", "group": 0,
                                                                   "values": [1]}],
                           fixed={"train.data": str(tmp_path / "data.hdf5")}, train_script=str(tmp_path / "train.py"))
    with pytest.raises(SweepError) as refused:
        launch_sweep(make_plan(request), request.options, tmp_path, HydraJobs(None, tmp_path / "sd", None, "",
                                                                              lambda f: None), request.robomimic)
    message = str(refused.value)
    assert message.startswith(f"the GPU slots folder {slots_dir} ($ROBOMIMIC_SWEEP_GPU_SLOTS) ") and fragment in message
    assert not (tmp_path / "sd").exists()


def test_the_default_slots_folder_must_be_private(tmp_path, monkeypatch):
    monkeypatch.delenv(gpus.SLOTS_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = gpus.default_slots_dir()
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o1777)
    with pytest.raises(SweepError, match=f"{re.escape(str(folder))} is writable by other users"):
        gpus.Slots.prepare()
