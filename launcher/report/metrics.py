"""Each run's numbers, the ranking, and the seeds aggregated: what every table, plot and
TensorBoard session of the report shows, computed once.

Why one module: the CSV, the Markdown, the plots and HParams must agree to the last
digit, so they all read :class:`RunResult` and :class:`ConfigGroup`, never the logs.

What the numbers mean (robomimic's own names, from :mod:`launcher.robomimic.logs`):

* loss: ``Loss`` in a ``Train Epoch`` / ``Validation Epoch`` block. iql logs no
  ``Loss``; its loss is ``actor/loss``, the policy's advantage-weighted log-likelihood
  loss, the counterpart of bc's ``Loss`` (its critic and value losses measure the Q
  functions, not the policy);
* success rate: ``Success_Rate`` in an ``Env: <env>`` rollout block;
* ``epochs``: the last epoch with a ``Train Epoch`` block;
* ``*_last``: the value at the last epoch that logged it; ``valid_loss_best``: the lowest,
  at the *last* epoch that reached it (robomimic saves its ``_best_validation_``
  checkpoint when the loss is ``<=`` the best so far); ``success_rate_best/<env>``: the
  highest, at the *first* epoch that reached it (robomimic saves on ``>``);
  ``success_rate_best``: the mean over envs of ``success_rate_best/<env>``, its epoch
  the first epoch whose mean success over envs is highest.
* ``best_checkpoint``: the model robomimic saved at the epoch of the ranking metric
  (``models/model_epoch_<N>*.pth``), empty if it saved none then.

Ranking: ``--metric`` or by default ``success_rate_best`` when any run has rollouts, else
``valid_loss_best`` when any run validated, else ``train_loss_last``. Success rates and
``epochs`` are better higher, everything else lower. Runs without the metric rank last.
Seeds: runs that differ only in ``train.seed`` form a config; its mean and sample
standard deviation (n-1; empty for one run) are over its runs that finished
(succeeded, or skipped as finished before).
"""
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from launcher.core.status import FINISHED, Status
from launcher.report import ReportError
from launcher.report.sources import SEED_KEY, RunSource, Sweep
from launcher.robomimic.logs import RunLog, read_log, read_run

LOSS_KEYS = ("Loss", "actor/loss")  # the first one a block has is its loss
SUCCESS_KEY = "Success_Rate"
Series = Tuple[Tuple[int, float], ...]
_CHECKPOINT = re.compile(r"^model_epoch_(\d+)(?:_.*)?\.pth$")


@dataclass(frozen=True)
class RunResult:
    """One run as the report shows it."""

    source: RunSource
    reason: str
    metrics: Dict[str, float]  # metric column -> value, only those the run has
    metric_epochs: Dict[str, int]  # metric column -> the epoch its value comes from
    curves: Dict[str, Series]  # "train_loss", "valid_loss", "success_rate/<env>" -> per epoch
    checkpoints: Dict[int, str]  # epoch -> model file

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def status(self) -> str:
        return self.source.status

    @property
    def finished(self) -> bool:
        return self.source.status in FINISHED

    def best_checkpoint(self, metric: str) -> str:
        epoch = self.metric_epochs.get(metric)
        return self.checkpoints.get(epoch, "") if epoch is not None else ""


@dataclass(frozen=True)
class Ranking:
    metric: str
    higher_is_better: bool

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    def sort_key(self, value: Optional[float]) -> Tuple[int, float]:
        if value is None or math.isnan(value):
            return (1, 0.0)
        return (0, -value if self.higher_is_better else value)


@dataclass(frozen=True)
class ConfigGroup:
    """The runs that differ only in ``train.seed``."""

    values: Dict[str, Any]  # swept key (not the seed) -> value
    runs: Tuple[RunResult, ...]
    stats: Dict[str, Tuple[float, Optional[float]]]  # metric -> (mean, sample std or None)

    @property
    def n_finished(self) -> int:
        return sum(1 for r in self.runs if r.finished)


# --- one run ----------------------------------------------------------------------------

def read_result(source: RunSource) -> RunResult:
    # A pending run has trained nothing yet, and a missing one's results are gone: a log under
    # its name is an earlier attempt's, or the copy of what was deleted.
    nothing = source.status in (Status.PENDING, Status.MISSING) or not source.readable
    log = RunLog(epochs=(), finished=False, error=None) if nothing else _read_logs(source)
    curves = _curves(log)
    metrics, epochs = _metrics(log, curves)
    reason = source.reason or _first_line(log.error)
    checkpoints = _checkpoints(source.output_dir) if source.output_dir else {}
    return RunResult(source, reason, metrics, epochs, curves, checkpoints)


def _read_logs(source: RunSource) -> RunLog:
    """The run's own log.txt, else its TensorBoard files, else the sweep's copy of its stdout."""
    if source.output_dir and os.path.isdir(source.output_dir):
        log = read_run(source.output_dir)
        if log.epochs or log.finished or log.failed:
            return log
    if source.stdout_log:
        try:
            return read_log(source.stdout_log)
        except OSError:
            pass
    return RunLog(epochs=(), finished=False, error=None)


def _first_line(text: Optional[str]) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _loss(block: Dict[str, float]) -> Optional[float]:
    for key in LOSS_KEYS:
        if key in block:
            return block[key]
    return None


def _curves(log: RunLog) -> Dict[str, Series]:
    train, valid, success = [], [], {}
    for e in log.epochs:
        for target, block in ((train, e.train), (valid, e.valid)):
            loss = _loss(block)
            if loss is not None:
                target.append((e.epoch, loss))
        for env, block in e.rollout.items():
            if SUCCESS_KEY in block:
                success.setdefault(env, []).append((e.epoch, block[SUCCESS_KEY]))
    curves = {"train_loss": tuple(train), "valid_loss": tuple(valid)}
    curves.update({f"success_rate/{env}": tuple(points) for env, points in success.items()})
    return {name: points for name, points in curves.items() if points}


def _metrics(log: RunLog, curves: Dict[str, Series]) -> Tuple[Dict[str, float], Dict[str, int]]:
    values: Dict[str, float] = {}
    epochs: Dict[str, int] = {}

    def put(name: str, epoch: int, value: float) -> None:
        values[name], epochs[name] = value, epoch

    trained = [e.epoch for e in log.epochs if e.train]
    if trained:
        put("epochs", trained[-1], float(trained[-1]))
    if "train_loss" in curves:
        put("train_loss_last", *curves["train_loss"][-1])
    if "valid_loss" in curves:
        valid = curves["valid_loss"]
        put("valid_loss_last", *valid[-1])
        best_epoch, best = min(reversed(valid), key=lambda p: p[1])  # the last of equals
        put("valid_loss_best", best_epoch, best)
        put("valid_loss_best_epoch", best_epoch, float(best_epoch))
    envs = [name.split("/", 1)[1] for name in curves if name.startswith("success_rate/")]
    for env in envs:
        best_epoch, best = max(curves[f"success_rate/{env}"], key=lambda p: p[1])  # the first of equals
        put(f"success_rate_best/{env}", best_epoch, best)
        put(f"success_rate_best_epoch/{env}", best_epoch, float(best_epoch))
    if envs:
        mean_epoch = _best_mean_success_epoch(log, envs)
        put("success_rate_best", mean_epoch, sum(values[f"success_rate_best/{env}"] for env in envs) / len(envs))
    return values, epochs


def _best_mean_success_epoch(log: RunLog, envs: Sequence[str]) -> int:
    best: Optional[Tuple[float, int]] = None
    for e in log.epochs:
        rates = [e.rollout.get(env, {}).get(SUCCESS_KEY) for env in envs]
        if any(rate is None for rate in rates):
            continue
        mean = sum(rates) / len(rates)
        if best is None or mean > best[0]:
            best = (mean, e.epoch)
    return best[1] if best else -1


def _checkpoints(run_dir: str) -> Dict[int, str]:
    try:
        names = sorted(os.listdir(os.path.join(run_dir, "models")))
    except OSError:
        return {}
    found: Dict[int, str] = {}
    for name in names:
        match = _CHECKPOINT.match(name)
        if match:
            found.setdefault(int(match.group(1)), os.path.join(run_dir, "models", name))
    return found


# --- the sweep --------------------------------------------------------------------------

def metric_columns(results: Iterable[RunResult]) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """(the metric columns, in table order; the rollout envs, in order of appearance)."""
    envs = list(dict.fromkeys(name.split("/", 1)[1] for r in results for name in r.curves
                              if name.startswith("success_rate/")))
    columns = ["epochs", "train_loss_last", "valid_loss_last", "valid_loss_best", "valid_loss_best_epoch"]
    if envs:
        columns.append("success_rate_best")
    for env in envs:
        columns += [f"success_rate_best/{env}", f"success_rate_best_epoch/{env}"]
    return tuple(columns), tuple(envs)


def higher_is_better(metric: str) -> bool:
    return metric == "epochs" or (metric.startswith("success_rate_best") and "_epoch" not in metric)


def choose_ranking(metric: Optional[str], columns: Sequence[str], results: Sequence[RunResult]) -> Ranking:
    if metric is None:
        has = {name for r in results for name in r.metrics}
        metric = next((m for m in ("success_rate_best", "valid_loss_best") if m in has), "train_loss_last")
    elif metric not in columns:
        raise ReportError(f"unknown metric {metric!r}; this sweep has: {', '.join(columns)}")
    return Ranking(metric, higher_is_better(metric))


def rank(results: Sequence[RunResult], ranking: Ranking) -> List[RunResult]:
    """Best first; runs without the metric last, in sweep order."""
    return sorted(results, key=lambda r: (ranking.sort_key(r.metrics.get(ranking.metric)), r.source.index))


def group_by_config(results: Sequence[RunResult], keys: Sequence[str], columns: Sequence[str]) -> List[ConfigGroup]:
    """Runs that differ only in the seed, in order of first appearance."""
    config_keys = [k for k in keys if k != SEED_KEY]
    groups: Dict[str, List[RunResult]] = {}
    for r in results:
        groups.setdefault(repr([r.source.params.get(k) for k in config_keys]), []).append(r)
    out = []
    for runs in groups.values():
        values = {k: runs[0].source.params.get(k) for k in config_keys}
        finished = [r for r in runs if r.finished]
        stats = {}
        for column in columns:
            numbers = [r.metrics[column] for r in finished if column in r.metrics]
            if numbers:
                stats[column] = (mean(numbers), sample_std(numbers))
        out.append(ConfigGroup(values, tuple(runs), stats))
    return out


def rank_groups(groups: Sequence[ConfigGroup], ranking: Ranking) -> List[ConfigGroup]:
    def key(group: ConfigGroup) -> Tuple[Tuple[int, float], int]:
        stat = group.stats.get(ranking.metric)
        return ranking.sort_key(stat[0] if stat else None), group.runs[0].source.index

    return sorted(groups, key=key)


def mean(numbers: Sequence[float]) -> float:
    if not all(math.isfinite(x) for x in numbers):
        return sum(numbers) / len(numbers)  # inf or nan, as the numbers say
    try:
        return math.fsum(numbers) / len(numbers)
    except OverflowError:  # a diverged run's loss near the float limit: the sum is not a float
        return math.fsum(x / len(numbers) for x in numbers)


def sample_std(numbers: Sequence[float]) -> Optional[float]:
    if len(numbers) < 2:
        return None
    m = mean(numbers)
    if not math.isfinite(m):
        return math.nan
    # Halved, so that no deviation overflows, and scaled by the largest, so that no square
    # does: seeds 1e200 apart (a diverged run) have a finite deviation, and get it.
    halves = [x / 2 - m / 2 for x in numbers]
    scale = max(abs(d) for d in halves) or 1.0
    return 2 * (scale * math.sqrt(math.fsum((d / scale) ** 2 for d in halves) / (len(numbers) - 1)))


def read_results(sweep: Sweep) -> List[RunResult]:
    return [read_result(source) for source in sweep.runs]
