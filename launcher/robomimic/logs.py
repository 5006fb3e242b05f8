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
or killed mid-block) never raises: you get what could be read.
"""
import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from launcher.robomimic import tfevents

SUCCESS_LINE = "finished run successfully!"
FAILURE_LINE = "run failed with error:"

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


def _json_block(lines: List[str], i: int) -> Tuple[Optional[Metrics], int]:
    """The indent-4 JSON object starting at ``lines[i]``, and the index after it; None if
    there is none or it is cut off (then the index is where reading may resume)."""
    if i >= len(lines):
        return None, i
    first = _visible(lines[i])
    if first == "{}":
        return {}, i + 1
    if first != "{":
        return None, i
    for j in range(i + 1, len(lines)):
        line = lines[j]
        if line == "}":
            try:
                return _numbers(json.loads("\n".join(lines[i:j + 1]))), j + 1
            except ValueError:
                return None, j + 1
        if not line.startswith(" "):
            return None, j  # not a json.dumps(indent=4) body: the block was cut off
    return None, len(lines)


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
    lines = text.split("\n")
    epochs = _Epochs()
    finished, error = False, None
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        if "Epoch" not in raw and "run" not in raw:
            continue  # most lines (the config dump, checkpoint notes): a substring test, no regex
        line = _visible(raw)
        # A resumed run (--resume) appends to log.txt: the last attempt's verdict is the run's.
        if line.endswith(FAILURE_LINE):
            finished, error = False, "\n".join(lines[i:]).strip()
            continue
        if line.endswith(SUCCESS_LINE):
            finished, error = True, None
            continue
        match = _TRAIN.search(line) or _VALID.search(line)
        if match:
            block, i = _json_block(lines, i)
            if block is not None:
                target = epochs.train if match.re is _TRAIN else epochs.valid
                target[epochs.seen(int(match.group(1)))] = block
            continue
        match = _ROLLOUT.match(line)
        if match and i < len(lines):
            env = _ENV.match(_visible(lines[i]))
            if env:
                block, i = _json_block(lines, i + 1)
                if block is not None:
                    epochs.rollout.setdefault(epochs.seen(int(match.group(1))), {})[env.group(1)] = block
            continue
        match = _MEMORY.match(line)
        if match:
            try:
                epochs.memory[epochs.seen(int(match.group(1)))] = float(match.group(2))
            except ValueError:
                pass
    return RunLog(epochs=epochs.freeze(), finished=finished, error=error)


def read_log(path: str) -> RunLog:
    """:func:`parse_log` on a file; undecodable bytes are replaced, not fatal."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse_log(f.read())


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
