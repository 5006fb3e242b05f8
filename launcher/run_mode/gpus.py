"""GPUs shared fairly by every run on this machine, across sweeps.

None of Hydra's launchers assigns GPUs (joblib has no such field; submitit_local
gives every job the same ``CUDA_VISIBLE_DEVICES``), so every parallel run would
land on GPU 0. Here each run takes a *slot* before it trains: an ``flock`` on
``<slots dir>/gpu<id>-<k>.lock``, ``k < launch.runs_per_gpu``. It gets the device
with the fewest busy slots, sees only that device (``CUDA_VISIBLE_DEVICES``, and
``MUJOCO_EGL_DEVICE_ID`` for rendering), and the kernel frees the slot when the
process holding it ends, however it ends. The slots dir is per machine, not per
sweep, so two sweeps on one workstation share the GPUs too, as robomimic's own
``dataset_states_to_obs_mp.py`` shares them with ``--gpu_ids``/``--procs_per_gpu``.
"""
import contextlib
import fcntl
import os
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

SLOTS_DIR = Path(os.environ.get("ROBOMIMIC_SWEEP_GPU_SLOTS", "/tmp/robomimic-sweep-gpu-slots"))
WAIT_S = 0.5


def detect_gpus() -> List[int]:
    """``launch.gpus=auto``: the devices ``CUDA_VISIBLE_DEVICES`` names, else those ``nvidia-smi`` lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [int(d) for d in visible.split(",") if d.strip().isdigit()]
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [i for i, line in enumerate(line for line in listing.splitlines() if line.startswith("GPU "))]


class GpuSlot:
    """A held slot on one device; the lock goes when this is released or the process ends."""

    def __init__(self, device: int, lock: TextIO) -> None:
        self.device = device
        self._lock = lock

    def env(self) -> Dict[str, str]:
        return {"CUDA_VISIBLE_DEVICES": str(self.device), "MUJOCO_EGL_DEVICE_ID": str(self.device)}

    def release(self) -> None:
        self._lock.close()


def _slot_file(device: int, k: int) -> Path:
    return SLOTS_DIR / f"gpu{device}-{k}.lock"


def _try_lock(path: Path) -> Optional[TextIO]:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)  # other users' sweeps take the same slots
    f = os.fdopen(fd, "r+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return f
    except BlockingIOError:
        f.close()
        return None


def _prepare_dir() -> None:
    SLOTS_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(SLOTS_DIR, 0o1777)  # shared by every user's sweeps, like /tmp


def try_take(gpus: Sequence[int], runs_per_gpu: int) -> Optional[GpuSlot]:
    """A free slot on the least busy device, or None if every slot is busy."""
    _prepare_dir()
    best: Optional[Tuple[int, int, TextIO]] = None  # (busy, device, held free slot)
    for device in gpus:
        busy, free = 0, None
        for k in range(runs_per_gpu):
            lock = _try_lock(_slot_file(device, k))
            if lock is None:
                busy += 1
            elif free is None:
                free = lock
            else:
                lock.close()
        if free is None:
            continue
        if best is None or busy < best[0]:
            if best is not None:
                best[2].close()
            best = (busy, device, free)
        else:
            free.close()
    return None if best is None else GpuSlot(best[1], best[2])


def take(gpus: Sequence[int], runs_per_gpu: int, should_stop: Callable[[], bool]) -> Optional[GpuSlot]:
    """Wait for a slot; None if ``should_stop()`` first."""
    while True:
        slot = try_take(gpus, runs_per_gpu)
        if slot is not None or should_stop():
            return slot
        time.sleep(WAIT_S)
