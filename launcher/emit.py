"""Writing a sweep's files: atomic, so an interrupted sweep never leaves a truncated file."""
import contextlib
import os
import shlex
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, List, Optional, TextIO, Tuple

from launcher.render import ConfigRenderer

if TYPE_CHECKING:
    from launcher.plan import LaunchOptions, SweepPlan

SCRIPT_HEADER = "#!/bin/bash\n\n"


@contextlib.contextmanager
def atomic_file(path: Path, mode: int = 0o644) -> Iterator[TextIO]:
    """A file opened for writing that appears at ``path`` whole, or not at all.

    Written to a temporary name in the same folder and renamed into place when the
    block ends without error.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w") as f:
            yield f
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: Path, text: str) -> None:
    with atomic_file(path) as f:
        f.write(text)


def train_command(train_script: str, config_path: str) -> str:
    """robomimic's ``python train.py --config <json>``, quoted only where the shell needs it."""
    return f"python {shlex.quote(train_script)} --config {shlex.quote(config_path)}"


def script_line(options: "LaunchOptions", file_name: str) -> str:
    """The script's line for the run whose config is ``<config_dir>/<file_name>``."""
    return train_command(options.train_script, os.path.join(options.config_dir, file_name)) + "\n"


class ConfigWriter:
    """Writes a sweep's config files into ``folder``, each appearing whole or not at all.

    Creating a file costs the kernel far more than rendering it costs us (hundreds
    of microseconds of system time on this project's disks), and those system calls
    release the GIL. So files are handed, in batches, to a few threads that write
    while the caller renders the next ones; at most ``max_batches`` batches wait in
    memory. A folder that does not exist yet is filled under a hidden name and
    renamed into place at the end; into an existing folder each file is written to
    a temporary name and renamed over its target.
    """

    def __init__(self, folder: Path, threads: Optional[int] = None, batch_size: int = 64, max_batches: int = 8) -> None:
        self.folder = folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.staging: Optional[Path] = None
        if not folder.exists():
            self.staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
            self.staging.mkdir()
        self._dir_fd = os.open(self.staging or folder, os.O_RDONLY)
        self._batch: List[Tuple[str, bytes]] = []
        self._batch_size = batch_size
        # More threads than cores only make the kernel spin on the folder's lock.
        threads = threads or min(4, max(2, os.cpu_count() or 2))
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="config-writer")
        self._slots = threading.Semaphore(max_batches)
        self._errors: List[BaseException] = []
        self._closed = False

    def write(self, file_name: str, text: str) -> None:
        self._batch.append((file_name, text.encode()))
        if len(self._batch) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._errors:
            raise self._errors[0]
        batch, self._batch = self._batch, []
        self._slots.acquire()
        self._pool.submit(self._write_batch, batch)

    def _write_batch(self, batch: List[Tuple[str, bytes]]) -> None:
        try:
            for file_name, data in batch:
                target = file_name if self.staging is not None else f".{file_name}.{os.getpid()}.tmp"
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=self._dir_fd)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                finally:
                    os.close(fd)
                if self.staging is None:
                    os.replace(target, file_name, src_dir_fd=self._dir_fd, dst_dir_fd=self._dir_fd)
        except BaseException as e:  # raised again by write() or close()
            self._errors.append(e)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Wait for every write; put a staged folder in place. Raises the first write error."""
        if self._batch:
            self._flush()
        self._shutdown()
        if self._errors:
            self.abort()
            raise self._errors[0]
        if self.staging is not None:
            os.rename(self.staging, self.folder)

    def abort(self) -> None:
        """Stop and remove what a staged folder holds; files already renamed into an
        existing folder are whole and stay."""
        self._shutdown()
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.shutdown(wait=True)
            os.close(self._dir_fd)


def emit_script(plan: "SweepPlan", options: "LaunchOptions") -> None:
    """Write every run's JSON to ``options.config_dir`` and the bash script that trains them.

    Streams: only a bounded number of rendered configs is in memory at a time. The
    script is renamed into place last, so it only ever appears complete, after every
    config it names.
    """
    render = ConfigRenderer(plan).text
    options.script_file.parent.mkdir(parents=True, exist_ok=True)
    writer = ConfigWriter(options.config_dir)
    try:
        with atomic_file(options.script_file, mode=0o755) as script:
            script.write(SCRIPT_HEADER)
            for name, choice in plan.runs():
                file_name = f"{name}.json"
                writer.write(file_name, render(name, choice))
                script.write(script_line(options, file_name))
            writer.close()
    except BaseException:
        writer.abort()
        raise
