"""Writing a sweep's files so that nothing is lost or half-written.

Every file appears whole or not at all (temporary name, then rename). Configs are
first written out of sight (a hidden staging folder), compared with what is
already there, and only put in place once the whole sweep has been checked: a
problem found at the 9,000th run, an existing file with other content, a full
disk or Ctrl-C all leave the targets as they were. Temporary names are short
(``.rmsweep-...``), so they never make a long run name too long for the file
system, and a sweep that holds a target's lock removes what a killed sweep left
behind there.
"""
import contextlib
import errno
import hashlib
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, List, Optional, TextIO, Tuple

from launcher.core.errors import SweepError

if TYPE_CHECKING:
    from launcher.request.launch_options import LaunchOptions

SCRIPT_HEADER = "#!/bin/bash\n\n"
TMP_PREFIX = ".rmsweep-"  # every temporary name this launcher creates starts so
_counter = iter(range(1 << 62))


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _tmp_name(tag: str) -> str:
    return f"{TMP_PREFIX}{tag}-{os.getpid()}-{threading.get_ident() % 100000}-{next(_counter)}.tmp"


def os_error(path: Path, error: OSError, doing: str) -> SweepError:
    """An OS error as one line naming the path, the reason and what to do."""
    hint = {
        errno.ENOSPC: "free some space or choose another folder",
        errno.EDQUOT: "free some space or choose another folder",
        errno.EACCES: "choose a folder you can write to",
        errno.EPERM: "choose a folder you can write to",
        errno.EROFS: "the file system is read-only; choose another folder",
        errno.ENOTDIR: "a file stands where a folder is needed; choose another path",
        errno.EISDIR: "a folder stands where a file is needed; choose another path",
        errno.ENAMETOOLONG: "use shorter names",
        errno.EEXIST: "a file is in the way; choose another path",
    }.get(error.errno or 0, "check the path")
    where = error.filename or path
    return SweepError(f"cannot {doing} {where}: {error.strerror or error}; {hint}. Nothing was changed.")


@contextlib.contextmanager
def atomic_file(path: Path, mode: int = 0o644) -> Iterator[TextIO]:
    """A file opened for writing that appears at ``path`` whole, or not at all."""
    tmp = path.with_name(_tmp_name("f"))
    try:
        with open(tmp, "w") as f:
            yield f
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    with atomic_file(path, mode) as f:
        f.write(text)


def remove_leftovers(folder: Path, prefix: str = TMP_PREFIX) -> None:
    """Remove what killed sweeps left in ``folder``; only call it holding the folder's lock."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(prefix) and not entry.name.endswith(".lock"):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


class NewFolders:
    """The folders a sweep creates, removed again (if still empty) when it is refused.

    A sweep makes its folders before its last checks (locks live beside their
    targets); if it then stops on bad input or a signal, ``with NewFolders()`` takes
    them away again, deepest first, so a refused sweep leaves no trace.
    """

    def __init__(self) -> None:
        self.created: List[Path] = []

    def __enter__(self) -> "NewFolders":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:
            self.undo()

    def make(self, folder: Path) -> None:
        missing = []
        for parent in [folder, *folder.parents]:
            if parent.exists():
                break
            missing.append(parent)
        folder.mkdir(parents=True, exist_ok=True)
        self.created.extend(reversed(missing))

    def undo(self) -> None:
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty
        self.created.clear()


def check_writable(folder: Path, what: str, folders: NewFolders) -> None:
    """Create ``folder`` if needed and prove a file can be made in it."""
    try:
        folders.make(folder)
        probe = folder / _tmp_name("probe")
        with open(probe, "w"):
            pass
        os.unlink(probe)
    except OSError as e:
        raise SweepError(
            f"{what}: cannot write to {folder}: {e.strerror or e}; choose a folder you can write to"
        ) from None


class _ThreadedWriter:
    """Writes files into one folder from a few threads, a bounded number of batches in memory.

    Creating a file costs the kernel far more than rendering it costs us (hundreds
    of microseconds of system time on this project's disks), and those system calls
    release the GIL; so batches go to a few threads while the caller renders the next.
    """

    def __init__(self, folder: Path, batch_size: int = 64, max_batches: int = 8) -> None:
        self.folder = folder
        self._dir_fd = os.open(folder, os.O_RDONLY)
        self._batch: List[Tuple[str, bytes]] = []
        self._batch_size = batch_size
        # More threads than cores only make the kernel spin on the folder's lock.
        threads = min(4, max(2, os.cpu_count() or 2))
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="config-writer")
        self._slots = threading.Semaphore(max_batches)
        self._errors: List[OSError] = []
        self._closed = False

    def write(self, file_name: str, data: bytes) -> None:
        self._batch.append((file_name, data))
        if len(self._batch) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        self.raise_error()
        batch, self._batch = self._batch, []
        self._slots.acquire()
        self._pool.submit(self._write_batch, batch)

    def _write_batch(self, batch: List[Tuple[str, bytes]]) -> None:
        try:
            for file_name, data in batch:
                fd = os.open(file_name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=self._dir_fd)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                finally:
                    os.close(fd)
        except OSError as e:
            e.filename = e.filename or str(self.folder / file_name)
            self._errors.append(e)
        finally:
            self._slots.release()

    def raise_error(self) -> None:
        if self._errors:
            raise self._errors[0]

    def close(self) -> None:
        """Wait for every write; raise the first error."""
        if self._batch and not self._errors:
            self._flush()
        self._shutdown()
        self.raise_error()

    def _shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.shutdown(wait=True)
            os.close(self._dir_fd)


class SweepWriter:
    """A sweep's configs and script, staged out of sight and put in place by :meth:`commit`.

    ``add`` stages a run's config (unless an identical file is already there);
    a different existing file is a conflict unless ``overwrite``. ``commit`` refuses
    if there are conflicts, then moves everything into place, the script last, so
    it only ever appears after every config it names. ``abort`` (and any error or
    interrupt inside the ``with`` block) removes the staged files: nothing changes.
    """

    def __init__(self, config_dir: Path, script_file: Optional[Path], overwrite: bool) -> None:
        self.config_dir = config_dir
        self.script_file = script_file
        self.overwrite = overwrite
        self.conflicts: List[Path] = []
        self._fresh = not config_dir.exists()
        # In an existing folder, one listing tells which files to compare: no failed open per run.
        self._existing = set() if self._fresh else _names_in(config_dir)
        self._staged: List[str] = []  # names to move into an existing folder
        self._script: Optional[TextIO] = None
        self._script_tmp: Optional[Path] = None
        self._script_hash = hashlib.sha256()
        self._writer: Optional[_ThreadedWriter] = None
        self._staging = self._staging_path()
        try:  # a signal can land here too: leave nothing staged behind
            self._make_staging()
            self._writer = _ThreadedWriter(self._staging)
            if script_file is not None:
                self._script_tmp = script_file.with_name(_tmp_name(short_hash(script_file.name)))
                self._script = self._open(self._script_tmp)
                self.script_write(SCRIPT_HEADER)
        except BaseException:
            self.abort()
            raise

    def _staging_path(self) -> Path:
        if self._fresh:
            return self.config_dir.with_name(_tmp_name("staging-" + short_hash(self.config_dir.name)))
        return self.config_dir / _tmp_name("staging")

    def _make_staging(self) -> None:
        try:
            self._staging.mkdir(parents=True)
        except OSError as e:
            raise os_error(self._staging, e, "create") from None

    def _open(self, path: Path) -> TextIO:
        try:
            return open(path, "w")
        except OSError as e:
            raise os_error(path, e, "write") from None

    def __enter__(self) -> "SweepWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:
            self.abort()

    def add(self, file_name: str, text: str) -> None:
        data = text.encode()
        if not self._fresh:
            if file_name in self._existing:
                existing = self._read(self.config_dir / file_name)
                if existing == data:
                    return
                if existing is not None and not self.overwrite:
                    self.conflicts.append(self.config_dir / file_name)
                    return
            self._staged.append(file_name)
        try:
            self._writer.write(file_name, data)
        except OSError as e:
            raise os_error(self._staging / file_name, e, "write") from None

    def script_write(self, text: str) -> None:
        assert self._script is not None
        self._script_hash.update(text.encode())
        try:  # once per run: no closure in the hot path
            self._script.write(text)
        except OSError as e:
            raise os_error(self._script_tmp, e, "write") from None

    def _read(self, path: Path) -> Optional[bytes]:
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            self.conflicts.append(path)
            return None
        except OSError as e:
            raise os_error(path, e, "read") from None

    def _guard(self, action: Callable[[], None], path: Path) -> None:
        try:
            action()
        except OSError as e:
            raise os_error(path, e, "write") from None

    def commit(self) -> None:
        """Refuse on conflicts; otherwise put every staged file in place, the script last."""
        self._guard(self._writer.close, self._staging)
        if self._script is not None:
            self._guard(self._script.close, self._script_tmp)
        self._check_script()
        if self.conflicts:
            raise conflict_error(self.conflicts)
        try:
            if self._fresh:
                os.rename(self._staging, self.config_dir)
            else:
                _move_all(self._staging, self.config_dir, self._staged)
                os.rmdir(self._staging)
            if self._script_tmp is not None:
                os.chmod(self._script_tmp, 0o755)
                os.replace(self._script_tmp, self.script_file)
        except OSError as e:
            raise os_error(self.config_dir, e, "move files into") from None
        self._script_tmp = None

    def _check_script(self) -> None:
        script = self.script_file
        if script is None or self.overwrite:
            return
        if script.is_dir():
            self.conflicts.append(script)
            return
        try:
            with open(script, "rb") as f:
                existing = hashlib.sha256(f.read()).digest()
        except FileNotFoundError:
            return
        except OSError as e:
            raise os_error(script, e, "read") from None
        if existing != self._script_hash.digest():
            self.conflicts.append(script)

    def abort(self) -> None:
        """Remove everything staged; the targets stay as they were."""
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.close()
        if self._script is not None:
            with contextlib.suppress(OSError):
                self._script.close()
        if self._script_tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._script_tmp)
        shutil.rmtree(self._staging, ignore_errors=True)


def _names_in(folder: Path) -> set:
    try:
        return {entry.name for entry in os.scandir(folder)}
    except OSError as e:
        raise os_error(folder, e, "read") from None


def _move_all(source: Path, target: Path, names: List[str], chunk: int = 256) -> None:
    """Rename ``names`` from ``source`` into ``target`` (the same file system), from a few
    threads: renames release the GIL, and 10,000 of them in one thread cost a second."""
    src_fd, dst_fd = os.open(source, os.O_RDONLY), os.open(target, os.O_RDONLY)

    def move(part: List[str]) -> None:
        for name in part:
            os.replace(name, name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)

    try:
        with ThreadPoolExecutor(max_workers=min(4, max(2, os.cpu_count() or 2))) as pool:
            for done in [pool.submit(move, names[i:i + chunk]) for i in range(0, len(names), chunk)]:
                done.result()
    finally:
        os.close(src_fd)
        os.close(dst_fd)


def conflict_error(conflicts: List[Path]) -> SweepError:
    listing = "\n".join(f"  {p}" for p in conflicts[:5])
    if len(conflicts) > 5:
        listing += f"\n  ... and {len(conflicts) - 5} more"
    return SweepError(
        f"{len(conflicts)} file(s) this sweep would write already exist with other content:\n"
        f"{listing}\nNothing was written. Set launch.overwrite=true to replace them, "
        "or choose another launch.config_dir / launch.script_file."
    )


def clean_leftovers(options: "LaunchOptions") -> None:
    """What killed sweeps left in the folders whose locks this sweep now holds."""
    if options.config_dir.is_dir():
        remove_leftovers(options.config_dir)
    remove_leftovers(options.config_dir.parent, f"{TMP_PREFIX}staging-{short_hash(options.config_dir.name)}-")
    remove_leftovers(options.script_file.parent, f"{TMP_PREFIX}{short_hash(options.script_file.name)}-")
