"""One reader of robomimic's training logs: per-epoch metrics, and how the run ended.

Why: robomimic's ``train.py`` exits 0 even when training crashed, so the only reliable
word on a run is its log, and a sweep's report needs each run's metrics. This module
reads both places robomimic 0.3.0 writes them, and train_stub.py writes the same:

* ``logs/log.txt`` (the run's stdout), which has, per epoch::

      Train Epoch 3
      {
          "Loss": 0.18,
          ...
      }
      Validation Epoch 3              (when experiment.validate)
      { ... }
      Epoch 3 Rollouts took 1.5s (avg) with results:     (when rollouts ran)
      Env: Lift
      { ... }
      Epoch 3 Memory Usage: 817 MB

  and a last line ``finished run successfully!``, or ``run failed with error:`` followed
  by the error, a blank line and the traceback. ``--resume`` (robomimic 0.5+) appends
  a run's next attempt to the same file: its epochs continue, and its verdict is the
  run's. tqdm progress bars share these lines through ``\\r``; we keep only what
  follows a line's last ``\\r``.
* ``logs/tb/`` TensorBoard files (for runs with ``terminal_output_to_txt=false``):
  ``Train/<key>``, ``Valid/<key>``, ``Rollout/<key>/<env>`` (plus ``-mean``/``-std``/
  ``-min``/``-max`` running stats, which we drop), ``Timing_Stats/Train_<x>`` for the
  log's ``Time_<x>`` keys, and ``System/RAM_Usage__MB_`` (tensorboardX's spelling of
  ``System/RAM Usage (MB)``). TensorBoard stores float32, so those values are the log's
  rounded to float32.

Reading is one pass over the text; malformed or truncated input (a run still writing,
or killed mid-block) never raises: you get what could be read. A log can be huge (a
run that printed gigabytes, or one endless line), so files are streamed: a line is
read in bounded pieces, of which only its end is kept (a tqdm bar ends with what it
shows), an error's text is cut at :data:`ERROR_BYTES`, and :func:`log_verdict` judges a
run from a bounded window of its log. Memory stays flat whatever the log's size.
"""
import io
import json
import os
import re
from dataclasses import dataclass, field
from typing import IO, Dict, Iterable, Iterator, List, Optional, Tuple

from launcher.robomimic import tfevents

SUCCESS_LINE = "finished run successfully!"
FAILURE_LINE = "run failed with error:"
LINE_CHARS = 64 * 1024  # of a longer line only its last LINE_CHARS are kept
ERROR_BYTES = 64 * 1024  # an error's text (message and traceback) is cut here
CHUNK = 256 * 1024  # how much of a log is held at once while it is searched

Metrics = Dict[str, float]


@dataclass(frozen=True)
class Epoch:
    """What one epoch logged. ``train`` and ``valid`` use the log's key names
    (``Loss``, ``Optimizer/policy0_lr``, ``Time_Epoch``...); ``rollout`` maps each env
    name to its keys (``Success_Rate``, ``Return``, ``Horizon``, ``time``,
    ``Time_Episode``); ``memory_mb`` is the epoch's ``Memory Usage``."""

    epoch: int
    train: Metrics = field(default_factory=dict)
    valid: Metrics = field(default_factory=dict)
    rollout: Dict[str, Metrics] = field(default_factory=dict)
    memory_mb: Optional[float] = None


@dataclass(frozen=True)
class RunLog:
    """A whole run: its epochs in order, whether its last attempt printed ``finished run
    successfully!``, and if it printed ``run failed with error:``, everything after that
    line (the error and its traceback, and any later output)."""

    epochs: Tuple[Epoch, ...]
    finished: bool
    error: Optional[str]

    @property
    def failed(self) -> bool:
        return self.error is not None


_TRAIN = re.compile(r"(?:^|(?<=\]))Train Epoch (\d+)$")
_VALID = re.compile(r"(?:^|(?<=\]))Validation Epoch (\d+)$")
_ROLLOUT = re.compile(r"^Epoch (\d+) Rollouts took (\S+)s \(avg\) with results:$")
_ENV = re.compile(r"^Env: (.*)$")
_MEMORY = re.compile(r"^Epoch (\d+) Memory Usage: (\S+) MB$")


def _visible(line: str) -> str:
    """What a terminal shows of a line that tqdm redrew with carriage returns."""
    return line.rsplit("\r", 1)[-1].rstrip()


def _numbers(block: object) -> Metrics:
    if not isinstance(block, dict):
        return {}
    return {k: float(v) for k, v in block.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class _Lines:
    """Lines (without their ``\\n``) with one step of lookahead: a block's reader may hand back
    the line that ended it."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._back: List[str] = []

    def next(self) -> Optional[str]:
        return self._back.pop() if self._back else next(self._lines, None)

    def push(self, line: str) -> None:
        self._back.append(line)


def _json_block(lines: _Lines) -> Optional[Metrics]:
    """The indent-4 JSON object that starts at the next line; None if there is none or it is
    cut off (then the line that ended it is handed back, to be read as what it is)."""
    first = lines.next()
    if first is None:
        return None
    if _visible(first) == "{}":
        return {}
    if _visible(first) != "{":
        lines.push(first)
        return None
    body = [first]
    while True:
        line = lines.next()
        if line is None:
            return None
        body.append(line)
        if line == "}":
            try:
                return _numbers(json.loads("\n".join(body)))
            except ValueError:
                return None
        if not line.startswith(" "):
            lines.push(line)
            return None  # not a json.dumps(indent=4) body: the block was cut off


class _Epochs:
    """Per-epoch metrics as they are read, in the order epochs first appear."""

    def __init__(self) -> None:
        self.train: Dict[int, Metrics] = {}
        self.valid: Dict[int, Metrics] = {}
        self.rollout: Dict[int, Dict[str, Metrics]] = {}
        self.memory: Dict[int, float] = {}
        self.order: Dict[int, None] = {}

    def seen(self, epoch: int) -> int:
        self.order.setdefault(epoch, None)
        return epoch

    def freeze(self) -> Tuple[Epoch, ...]:
        return tuple(
            Epoch(epoch=e, train=self.train.get(e, {}), valid=self.valid.get(e, {}),
                  rollout=self.rollout.get(e, {}), memory_mb=self.memory.get(e))
            for e in sorted(self.order)
        )


def parse_log(text: str) -> RunLog:
    """Parse the text of a robomimic ``log.txt`` (or a run's captured stdout)."""
    return parse_lines(_bounded_lines(io.StringIO(text, newline="\n")))


def parse_lines(source: Iterable[str]) -> RunLog:
    """Parse a log given line by line (without line ends): one pass, nothing held but the metrics
    (and the text after a failure line, at most :data:`ERROR_BYTES` of it)."""
    lines = _Lines(source)
    epochs = _Epochs()
    finished, failed, error = False, False, _ErrorText()
    while True:
        raw = lines.next()
        if raw is None:
            break
        if failed:
            error.add(raw)
        if "Epoch" not in raw and "run" not in raw:
            continue  # most lines (the config dump, checkpoint notes): a substring test, no regex
        line = _visible(raw)
        # A resumed run (--resume) appends its next attempt to log.txt: the last verdict is the run's.
        if line.endswith(FAILURE_LINE):
            finished, failed, error = False, True, _ErrorText()
            continue
        if line.endswith(SUCCESS_LINE):
            finished, failed = True, False
            continue
        _read_epoch_line(line, lines, epochs)
    return RunLog(epochs=epochs.freeze(), finished=finished, error=error.text() if failed else None)


class _ErrorText:
    """The lines after a failure line, up to :data:`ERROR_BYTES`."""

    def __init__(self) -> None:
        self.parts: List[str] = []
        self.size = 0

    def add(self, line: str) -> None:
        if self.size < ERROR_BYTES:
            self.parts.append(line)
            self.size += len(line) + 1

    def text(self) -> str:
        return "\n".join(self.parts)[:ERROR_BYTES].strip()


def _read_epoch_line(line: str, lines: _Lines, epochs: _Epochs) -> None:
    """A header line: its block (and for rollouts the env line before it) from ``lines``."""
    match = _TRAIN.search(line) or _VALID.search(line)
    if match:
        block = _json_block(lines)
        if block is not None:
            target = epochs.train if match.re is _TRAIN else epochs.valid
            target[epochs.seen(int(match.group(1)))] = block
        return
    match = _ROLLOUT.match(line)
    if match:
        env_line = lines.next()
        env = _ENV.match(_visible(env_line)) if env_line is not None else None
        if env is None:
            if env_line is not None:
                lines.push(env_line)
            return
        block = _json_block(lines)
        if block is not None:
            epochs.rollout.setdefault(epochs.seen(int(match.group(1))), {})[env.group(1)] = block
        return
    match = _MEMORY.match(line)
    if match:
        try:
            epochs.memory[epochs.seen(int(match.group(1)))] = float(match.group(2))
        except ValueError:
            pass


def _bounded_lines(f: IO[str], limit: int = LINE_CHARS) -> Iterator[str]:
    """The lines of ``f`` without their ``\\n``; of a line longer than ``limit``, its last
    ``limit`` characters (the part a terminal shows last, where robomimic's headers are)."""
    while True:
        piece = f.readline(limit)
        if not piece:
            return
        if piece.endswith("\n"):
            yield piece[:-1]
            continue
        tail = piece
        while len(piece) == limit and not piece.endswith("\n"):
            piece = f.readline(limit)
            tail = (tail + piece)[-(limit + 1):]
        yield tail[:-1][-limit:] if tail.endswith("\n") else tail[-limit:]


def read_log(path: str) -> RunLog:
    """:func:`parse_log` on a file, streamed; undecodable bytes are replaced, not fatal."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse_lines(_bounded_lines(f))


def failed_last(text: str) -> bool:
    """Whether the log's last verdict is ``run failed with error:`` (a resumed run appends
    its next attempt, whose ``finished run successfully!`` then comes later)."""
    return text.rfind(FAILURE_LINE) > text.rfind(SUCCESS_LINE)


def robomimic_error(text: str) -> Optional[str]:
    """The reason a robomimic run failed, from its log or stdout: the first non-empty
    line after the last ``run failed with error:``; None if there is no such line, or
    if a later attempt (``--resume``) finished.

    An exception raised without a message (a bare ``assert``) leaves robomimic's message
    line empty, so the first line would be the traceback's header; then the
    traceback's last line, the exception itself (``AssertionError``), is returned.
    """
    if not failed_last(text):
        return None
    at = text.rfind(FAILURE_LINE)
    after = [_visible(l).strip() for l in text[at + len(FAILURE_LINE):].split("\n")]
    after = [l for l in after if l]
    if not after:
        return None
    if after[0] == "Traceback (most recent call last):":
        return after[-1]
    return after[0]


@dataclass(frozen=True)
class LogVerdict:
    """How a run ended, as its log tells it, read from a bounded window of the log."""

    exists: bool
    finished: bool  # ``finished run successfully!`` after any ``run failed with error:``
    failed: bool  # ``run failed with error:`` after any success line
    error: Optional[str]  # :func:`robomimic_error` of that failure, None if it names none
    last_line: str  # the last non-empty line of the output (of a long one, its end)


def log_verdict(path: str, start: int = 0, last_chars: int = 300) -> LogVerdict:
    """Judge the log at ``path`` (its output from byte ``start`` on) without reading it whole:
    the file is searched a chunk at a time for robomimic's last success and failure lines,
    then only the failure's text (at most :data:`ERROR_BYTES`) and the log's end are read."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            success, failure = _last_offsets(f, start, (SUCCESS_LINE.encode(), FAILURE_LINE.encode()))
            error = None
            if failure > success:
                f.seek(failure)
                error = robomimic_error(f.read(len(FAILURE_LINE) + ERROR_BYTES).decode("utf-8", "replace"))
            f.seek(max(start, size - 2 * LINE_CHARS))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return LogVerdict(False, False, False, None, "")
    last = last_line(tail)
    return LogVerdict(True, success > failure, failure > success, error,
                      last if len(last) <= last_chars else "..." + last[-last_chars:])


def _last_offsets(f: IO[bytes], start: int, needles: Tuple[bytes, ...]) -> Tuple[int, ...]:
    """Where each of ``needles`` last occurs in ``f`` from ``start`` on (-1: nowhere), a chunk at a time."""
    found = [-1] * len(needles)
    overlap = max(len(n) for n in needles) - 1
    f.seek(start)
    offset, carry = start, b""
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return tuple(found)
        window = carry + chunk
        base = offset - len(carry)
        for i, needle in enumerate(needles):
            at = window.rfind(needle)
            if at >= 0:
                found[i] = max(found[i], base + at)
        offset += len(chunk)
        carry = window[-overlap:]


def last_line(text: str) -> str:
    """The last non-empty line of a log (tqdm's ``\\r`` redraws count as line ends)."""
    for line in reversed(text.replace("\r", "\n").splitlines()):
        if line.strip():
            return line.strip()
    return ""


# --- TensorBoard ------------------------------------------------------------------

_ROLLOUT_STATS = ("-mean", "-std", "-min", "-max")


def _place(tag: str) -> Optional[Tuple[str, Optional[str], str]]:
    """(section, env, key) for a robomimic TensorBoard tag, or None for tags that have no
    place in the log (running stats, unknown tags)."""
    section, _, rest = tag.partition("/")
    if section in ("Train", "Valid"):
        return section, None, rest
    if section == "Rollout":
        key, _, env = rest.rpartition("/")
        if not key or env.endswith(_ROLLOUT_STATS):
            return None
        return section, env, key
    if section == "Timing_Stats":
        kind, _, name = rest.partition("_")
        if kind in ("Train", "Valid"):
            return kind, None, "Time_" + name
        if kind == "Rollout":
            env, _, name = name.rpartition("_")
            return "Rollout", env, "Time_" + name
        return None
    if tag == "System/RAM_Usage__MB_":
        return "System", None, "memory"
    return None


def read_tb(logdir: str, check_crc: bool = True) -> Tuple[Epoch, ...]:
    """The per-epoch metrics of a run's ``logs/tb/`` folder, under the same names as
    :func:`parse_log` gives them (step = epoch)."""
    epochs = _Epochs()
    for tag, steps in tfevents.read_logdir(logdir, check_crc).items():
        place = _place(tag)
        if place is None:
            continue
        section, env, key = place
        for step, value in steps.items():
            epoch = epochs.seen(step)
            if section == "Train":
                epochs.train.setdefault(epoch, {})[key] = value
            elif section == "Valid":
                epochs.valid.setdefault(epoch, {})[key] = value
            elif section == "Rollout":
                epochs.rollout.setdefault(epoch, {}).setdefault(env, {})[key] = value
            else:
                epochs.memory[epoch] = value
    return epochs.freeze()


def read_run(run_dir: str) -> RunLog:
    """A run folder (``<output_dir>/<name>/<timestamp>``): its ``logs/log.txt`` if there is
    one, else its TensorBoard files (which cannot tell whether the run finished, so
    ``finished`` is False and ``error`` None)."""
    log = os.path.join(run_dir, "logs", "log.txt")
    if os.path.isfile(log):
        return read_log(log)
    return RunLog(epochs=read_tb(os.path.join(run_dir, "logs", "tb")), finished=False, error=None)


def metric_series(run: RunLog, section: str, key: str, env: Optional[str] = None) -> List[Tuple[int, float]]:
    """``[(epoch, value)]`` of one metric, e.g. ``metric_series(run, "valid", "Loss")`` or
    ``metric_series(run, "rollout", "Success_Rate", "Lift")``."""
    out = []
    for e in run.epochs:
        source = e.rollout.get(env or "", {}) if section == "rollout" else getattr(e, section)
        if key in source:
            out.append((e.epoch, source[key]))
    return out
