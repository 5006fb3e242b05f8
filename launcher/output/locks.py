"""One sweep at a time per target: advisory locks that name their holder.

A sweep holds an ``flock`` on each folder or file it writes (``launch.config_dir``,
``launch.script_file``, a run-mode sweep dir) from the "nothing lost" check to its
end. The kernel drops the lock when its holder dies, however it dies, so a killed
sweep never blocks the next one. The lock file (``.rmsweep-<hash>.lock`` beside the
target) holds a line about its holder, for the message a second sweep gets.

Run outputs are claimed differently, because a sweep may train thousands of runs
into one ``train.output_dir`` and cannot hold a lock per run: each live sweep keeps
one locked claim file listing its runs in ``<output_dir>/.rmsweep-claims/``; a new
sweep reads the live claims (a claim whose lock it can take is a dead sweep's, and
is removed) and refuses if one names a run it would train.
"""
import contextlib
import datetime
import fcntl
import json
import os
import socket
import sys
from pathlib import Path
from typing import Dict, List, Optional, Set, TextIO, Tuple

from launcher.core.errors import SweepError
from launcher.output.staging import TMP_PREFIX, short_hash

CLAIMS_DIR = TMP_PREFIX + "claims"


def holder_note(sweep_dir: Path) -> Dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "sweep_dir": str(sweep_dir),
        "command": " ".join(sys.argv),
    }


def describe_holder(note: str) -> str:
    try:
        info = json.loads(note.splitlines()[0])
        return (f"pid {info['pid']} on {info['host']}, started {info['started']}, "
                f"sweep dir {info['sweep_dir']}")
    except (ValueError, KeyError, IndexError, TypeError):
        return "another sweep"


def lock_path(target: Path) -> Path:
    return target.parent / f"{TMP_PREFIX}{short_hash(target.name)}.lock"


class Locks:
    """The locks one sweep holds, released together (``with``)."""

    def __init__(self, note: Dict[str, object]) -> None:
        self.note = json.dumps(note)
        self._files: List[TextIO] = []
        self._claims: List[Tuple[Path, TextIO]] = []

    def __enter__(self) -> "Locks":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def lock(self, target: Path, what: str) -> None:
        """Hold ``target``'s lock, or raise naming the sweep that holds it."""
        f = _lock_file(lock_path(target), what, target)
        f.seek(0)
        f.truncate()
        f.write(self.note + "\n")
        f.flush()
        self._files.append(f)

    def claim_outputs(self, output_root: Path, names: Set[str], claim_id: str) -> None:
        """Claim the runs ``names`` will train into ``output_root``, or raise naming the holder."""
        claims = output_root / CLAIMS_DIR
        with _Registry(claims) as registry:
            for other in sorted(claims.glob("*.claim")):
                _check_claim(other, names, output_root)
            mine = open(claims / f"{claim_id}.claim", "w")
            fcntl.flock(mine, fcntl.LOCK_EX)
            mine.write(self.note + "\n")
            mine.writelines(f"{name}\n" for name in sorted(names))
            mine.flush()
            self._claims.append((registry.folder, mine))

    def release(self) -> None:
        for folder, claim in reversed(self._claims):
            with _Registry(folder):
                _unlink(claim.name)
                claim.close()
        self._claims.clear()
        for f in reversed(self._files):
            # Unlinked while still held: a sweep that opened it meanwhile notices (see _lock_file).
            _unlink(f.name)
            f.close()  # closing drops the flock
        self._files.clear()


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class _Registry:
    """The claims folder's own lock, held for a moment while claims are read or changed.

    Whoever holds it and finds no claim left removes the folder, so an output folder
    keeps no trace of the sweeps that trained into it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: Optional[TextIO] = None

    def __enter__(self) -> "_Registry":
        path = self.folder / "registry.lock"
        while True:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                f = open(path, "a+")
            except FileNotFoundError:
                continue  # removed by its last user between our mkdir and open
            except OSError as e:
                raise SweepError(f"train.output_dir: cannot write to {self.folder.parent}: {e.strerror}; "
                                 "choose a folder you can write to") from None
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                if os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
                    self._file = f
                    return self
            except FileNotFoundError:
                pass
            f.close()

    def __exit__(self, *exc: object) -> None:
        assert self._file is not None
        if not any(self.folder.glob("*.claim")):
            _unlink(self._file.name)
            with contextlib.suppress(OSError):
                self.folder.rmdir()
        self._file.close()


def _lock_file(path: Path, what: str, target: Path) -> TextIO:
    """``path`` opened and locked, and still the file at ``path`` (its holder unlinks it on release)."""
    while True:
        try:
            f = open(path, "a+")
        except OSError as e:
            raise SweepError(f"{what}: cannot create the lock file {path}: {e.strerror}; "
                             "choose a folder you can write to") from None
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = describe_holder(f.read())
            f.close()
            raise SweepError(
                f"{what} {target} is in use by another sweep ({holder}); "
                "wait for it to finish or choose another path. Nothing was written."
            ) from None
        try:
            if os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
                return f
        except FileNotFoundError:
            pass
        f.close()  # its holder released and removed it between our open and our lock: again


def _check_claim(path: Path, names: Set[str], output_root: Path) -> None:
    try:
        f = open(path, "r")
    except FileNotFoundError:
        return
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # alive: read it
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)  # its sweep died
            return
        note = f.readline()
        taken: Optional[str] = next((line.rstrip("\n") for line in f if line.rstrip("\n") in names), None)
    if taken is not None:
        raise SweepError(
            f"run {taken} would train into {output_root / taken}, which another sweep is training "
            f"({describe_holder(note)}); wait for it to finish, or change the runs' names or "
            "train.output_dir. Nothing was written."
        )
