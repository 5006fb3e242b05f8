"""GPUs shared fairly by every run on this machine, across sweeps.

None of Hydra's launchers assigns GPUs (joblib has no such field; submitit_local
gives every job the same ``CUDA_VISIBLE_DEVICES``), so every parallel run would
land on GPU 0. Here each run takes a *slot* before it trains: an ``flock`` on
``<slots folder>/gpu<device>-<k>.lock``, ``k < launch.runs_per_gpu``. It gets the
device with the fewest busy slots, sees only that device (``CUDA_VISIBLE_DEVICES``,
and ``MUJOCO_EGL_DEVICE_ID`` for rendering), and the kernel frees the slot when the
process holding it ends, however it ends. Slots belong to the user and the machine,
not the sweep, so two sweeps on one workstation share the GPUs too, as robomimic's
own ``dataset_states_to_obs_mp.py`` shares them with ``--gpu_ids``/``--procs_per_gpu``.

Why the care with files: the slots folder may be shared between users
(``ROBOMIMIC_SWEEP_GPU_SLOTS``), and a file another user planted there must never
make us write, chmod or create anything elsewhere. So the folder is checked once,
up front (a real folder, ours or root's, that nobody else may empty), and a lock
file is opened read-only (``flock`` needs no more), without following a link, and
used only if it is a regular file; nothing is ever chmod'ed.
"""
import errno
import fcntl
import os
import re
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from launcher.core.errors import SweepError

SLOTS_ENV = "ROBOMIMIC_SWEEP_GPU_SLOTS"  # a folder the user chose, e.g. one shared by a lab's users
WAIT_S = 0.5
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _me() -> int:
    return os.geteuid()


# -- which devices ---------------------------------------------------------------------------

def visible_devices() -> Optional[List[str]]:
    """The entries of ``CUDA_VISIBLE_DEVICES`` (indices, ``GPU-<uuid>``, ``MIG-<uuid>``); None if unset."""
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    return None if value is None else [d.strip() for d in value.split(",") if d.strip()]


def _nvidia_smi_count() -> int:
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.splitlines() if line.startswith("GPU "))


def devices(requested: object) -> Tuple[str, ...]:
    """The devices runs are given, as their ``CUDA_VISIBLE_DEVICES`` names them.

    ``launch.gpus`` ids count among the devices this process sees, as CUDA counts them:
    under ``CUDA_VISIBLE_DEVICES=2,3``, ``[0, 1]`` are physical GPUs 2 and 3.
    """
    visible = visible_devices()
    if requested == "auto":
        if visible is not None:
            if not visible:
                raise SweepError("launch.gpus=auto: CUDA_VISIBLE_DEVICES is empty, so no GPU is visible; "
                                 "drop launch.gpus to train on the CPU")
            return tuple(visible)
        count = _nvidia_smi_count()
        if not count:
            raise SweepError("launch.gpus=auto: this machine shows no GPU (nvidia-smi -L lists none); "
                             "drop launch.gpus to train on the CPU")
        return tuple(str(i) for i in range(count))
    ids = list(requested)  # type: ignore[call-overload]
    if visible is None:
        return tuple(str(i) for i in ids)
    outside = [i for i in ids if i >= len(visible)]
    if outside:
        raise SweepError(
            f"launch.gpus={ids}: CUDA_VISIBLE_DEVICES={','.join(visible)} shows {len(visible)} device(s), "
            f"numbered 0 to {len(visible) - 1} as CUDA numbers them; {outside[0]} is not one of them"
        )
    return tuple(visible[i] for i in ids)


# -- the slots folder ----------------------------------------------------------------------

def default_slots_dir() -> Path:
    """This user's own slots on this machine (the host in the name: a home folder may be shared)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "robomimic-sweep" / f"gpu-slots-{socket.gethostname()}"


def slots_dir() -> Tuple[Path, bool]:
    """(the slots folder, whether the user chose it to share) from ``ROBOMIMIC_SWEEP_GPU_SLOTS``."""
    chosen = os.environ.get(SLOTS_ENV)
    if chosen:
        return Path(os.path.abspath(os.path.expanduser(chosen))), True
    return default_slots_dir(), False


def _checked(folder: Path, chosen: bool) -> Path:
    what = f"the GPU slots folder {folder}" + (f" (${SLOTS_ENV})" if chosen else "")
    problem = _unsafe(folder, chosen)
    if problem:
        raise SweepError(f"{what} {problem}")
    return folder


def _unsafe(folder: Path, chosen: bool) -> Optional[str]:
    """Why ``folder`` cannot hold slots, or None."""
    try:
        info = os.lstat(folder)
    except OSError as e:
        if e.errno == errno.ENOENT and chosen:
            return (f"does not exist; make it (to share it between users: sudo install -d -m 1777 {folder}) "
                    f"or unset ${SLOTS_ENV}")
        return f"cannot be read: {e.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link; name the folder itself"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if info.st_uid not in (_me(), 0):
        return f"belongs to another user (uid {info.st_uid}); use a folder of yours or root's"
    if not chosen and info.st_mode & 0o022:
        return "is writable by other users; it must be yours alone (chmod 700)"
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        return "lets other users delete or replace its lock files; make it sticky (chmod +t), as /tmp is"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "is not writable by you"
    return None


# -- slots ---------------------------------------------------------------------------------

class GpuSlot:
    """A held slot on one device; the lock goes when this is released or the process ends."""

    def __init__(self, device: str, fd: int) -> None:
        self.device = device
        self._fd: Optional[int] = fd

    def env(self) -> Dict[str, str]:
        env = {"CUDA_VISIBLE_DEVICES": self.device}
        if self.device.isdigit():  # EGL numbers devices; a UUID has no EGL id
            env["MUJOCO_EGL_DEVICE_ID"] = self.device
        return env

    @property
    def manifest_value(self) -> object:
        """The device as the manifest's ``gpu`` column records it: a number, or a UUID."""
        return int(self.device) if self.device.isdigit() else self.device

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Slots:
    """The lock files of one slots folder; ``shared``: other users' lock files belong there too."""

    def __init__(self, folder: Path, shared: bool) -> None:
        self.folder = folder
        self.shared = shared

    @staticmethod
    def prepare() -> "Slots":
        """The sweeper, up front: the slots folder, made if it is the default one, and checked."""
        folder, chosen = slots_dir()
        if not chosen:
            try:
                os.makedirs(folder, mode=0o700, exist_ok=True)
            except OSError as e:
                raise SweepError(f"cannot make the GPU slots folder {folder}: {e.strerror}; "
                                 f"set ${SLOTS_ENV} to a folder of yours") from None
        return Slots.at(_checked(folder, chosen))

    @staticmethod
    def at(folder: Path) -> "Slots":
        """A job: the folder its sweeper checked, checked again (it may have changed since)."""
        _checked(folder, chosen=folder != default_slots_dir())
        return Slots(folder, shared=bool(os.lstat(folder).st_mode & 0o022))

    def file(self, device: str, k: int) -> Path:
        return self.folder / f"gpu{re.sub(r'[^A-Za-z0-9.-]', '_', device)}-{k}.lock"

    def _open(self, path: Path) -> int:
        """A read-only descriptor of the lock file ``path``, made if missing; never through a link."""
        try:
            fd = os.open(path, _OPEN)
        except FileNotFoundError:
            try:
                # O_EXCL: made by us, here. Opening another user's file without O_CREAT keeps
                # fs.protected_regular happy in a sticky shared folder.
                fd = os.open(path, _OPEN | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return self._open(path)
            except OSError as e:
                raise SweepError(f"cannot make the GPU slot {path}: {e.strerror}") from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise SweepError(f"GPU slot {path} is a symbolic link, which is never followed; remove it") from None
            raise SweepError(f"cannot open the GPU slot {path}: {e.strerror} (its maker's umask must leave it "
                             "readable to every user of a shared slots folder)") from None
        info = os.fstat(fd)
        problem = "is not a regular file" if not stat.S_ISREG(info.st_mode) else (
            f"belongs to another user (uid {info.st_uid})" if info.st_uid != _me() and not self.shared else "")
        if problem:
            os.close(fd)
            raise SweepError(f"GPU slot {path} {problem}; remove it")
        return fd

    def _try_lock(self, device: str, k: int) -> Optional[int]:
        fd = self._open(self.file(device, k))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
            return None

    def try_take(self, devices: Sequence[str], runs_per_gpu: int) -> Optional[GpuSlot]:
        """A free slot on the least busy device, or None if every slot is busy."""
        best: Optional[Tuple[int, str, int]] = None  # (busy, device, held free slot)
        for device in devices:
            busy, free = 0, None
            for k in range(runs_per_gpu):
                fd = self._try_lock(device, k)
                if fd is None:
                    busy += 1
                elif free is None:
                    free = fd
                else:
                    os.close(fd)
            if free is None:
                continue
            if best is None or busy < best[0]:
                if best is not None:
                    os.close(best[2])
                best = (busy, device, free)
            else:
                os.close(free)
        return None if best is None else GpuSlot(best[1], best[2])

    def take(self, devices: Sequence[str], runs_per_gpu: int,
             should_stop: Callable[[], bool]) -> Optional[GpuSlot]:
        """Wait for a slot; None if ``should_stop()`` first."""
        while True:
            slot = self.try_take(devices, runs_per_gpu)
            if slot is not None or should_stop():
                return slot
            time.sleep(WAIT_S)
