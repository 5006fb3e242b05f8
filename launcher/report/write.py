"""A sweep's report, read and written: the one entry point behind the CLI and run mode.

Why files appear whole: a report is rewritten while people look at it (the end of
run mode, a user re-running it mid-sweep), so every file is written under a temporary
name and renamed into place, and ``plots/`` and ``tensorboard/`` are built beside
their old versions and swapped in whole: a reader sees the old report or the new one,
never half of either.
"""
import contextlib
import errno
import os
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, TextIO, Tuple, TypeVar

from launcher.core.status import Status
from launcher.report import ReportError, tables, tensorboard
from launcher.report import metrics as res
from launcher.report.metrics import ConfigGroup, Ranking, RunResult
from launcher.report.sources import Sweep, load_sweep

FILES = ("results.csv", "results_by_config.csv", "results.md", "plots", "tensorboard")
TOP = 10
_TMP = ".rmsweep-report-"  # the launcher's temporary-name prefix, with the writer's pid after it
T = TypeVar("T")
_STATUS_ORDER = (Status.SUCCEEDED, Status.SKIPPED, Status.FAILED, Status.INTERRUPTED, Status.RUNNING, Status.UNFINISHED,
                 Status.MISSING, Status.UNKNOWN, Status.PENDING)


@dataclass(frozen=True)
class Report:
    """What a report found; ``runs`` and ``configs`` are ranked, best first."""

    sweep: Sweep
    runs: Tuple[RunResult, ...]
    configs: Tuple[ConfigGroup, ...]
    columns: Tuple[str, ...]  # the metric columns
    envs: Tuple[str, ...]
    ranking: Ranking
    plots: Tuple[str, ...] = ()  # file names in plots/
    # Whether tensorboard/ (HParams) was written (it needs tensorboard); None: nothing written yet.
    board: Optional[bool] = None

    @property
    def folder(self) -> Path:
        return self.sweep.folder

    @property
    def keys(self) -> Tuple[str, ...]:
        return self.sweep.keys

    def status_counts(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for r in self.runs:
            counts[r.status] = counts.get(r.status, 0) + 1
        order = {s: i for i, s in enumerate(_STATUS_ORDER)}
        return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))


def read_report(sweep_dir: str, metric: Optional[str] = None) -> Report:
    """Every run's numbers, ranked and grouped; nothing written."""
    sweep = load_sweep(sweep_dir)
    results = res.read_results(sweep)
    columns, envs = res.metric_columns(results)
    ranking = res.choose_ranking(metric, columns, results)
    groups = res.group_by_config(results, sweep.keys, columns)
    return Report(sweep, tuple(res.rank(results, ranking)), tuple(res.rank_groups(groups, ranking)),
                  columns, envs, ranking)


def write_report(sweep_dir: str, metric: Optional[str] = None) -> Report:
    """Read the sweep in ``sweep_dir`` and write its report there: results.csv,
    results_by_config.csv, results.md, plots/ and, with tensorboard installed,
    tensorboard/. Raises ReportError (no such folder, not a sweep, unknown ``metric``)
    before writing anything."""
    report = read_report(sweep_dir, metric)
    folder = report.folder
    _remove_leftovers(folder)
    plots = _build_folder(folder, "plots", lambda path: _draw(path, report))
    board = tensorboard.available()
    if board:
        _build_folder(folder, "tensorboard", lambda path: _board(path, report))
    else:  # an older report's view would show other numbers than this report's tables
        shutil.rmtree(folder / "tensorboard", ignore_errors=True)
    report = replace(report, plots=tuple(plots), board=board)
    in_sweep_order = sorted(report.runs, key=lambda r: r.source.index)
    configs_in_order = sorted(report.configs, key=lambda g: g.runs[0].source.index)
    config_keys = [k for k in report.keys if k != res.SEED_KEY]
    _write(folder / "results.csv", tables.runs_csv(in_sweep_order, report.keys, report.columns, report.ranking))
    _write(folder / "results_by_config.csv", tables.configs_csv(configs_in_order, config_keys, report.columns))
    _write(folder / "results.md", markdown(report))
    return report


def format_top(report: Report, n: int = TOP) -> str:
    """The best ``n`` runs as a short table, and where the report is."""
    shown = min(n, len(report.runs))
    lines = [f"Best {shown} of {len(report.runs)} runs by {report.ranking.metric} ({report.ranking.direction}):",
             tables.top_rows(report.runs, report.ranking, n),
             f"Report: {report.folder / 'results.md'} (and results.csv, results_by_config.csv, plots/"
             f"{'' if report.board is False else ', tensorboard/'} beside it)"]
    if report.board is False:
        lines.append(f"For TensorBoard's HParams view: {tensorboard.INSTALL_HINT}, then run the report again")
    return "\n".join(line for line in lines if line)


def after_run(sweep_dir: str, top: int = 5, out: Optional[TextIO] = None) -> Optional[Report]:
    """Run mode's last step: write the report and print its top rows. A report that
    cannot be made is one line on stderr, never a failed sweep: the trainings are done."""
    out = out or sys.stdout
    try:
        report = write_report(sweep_dir)
    except ReportError as e:
        print(f"No report: {e}", file=sys.stderr)
        return None
    except Exception as e:  # a report bug must not turn a finished sweep into a failed one
        print(f"No report: {type(e).__name__}: {e} (retry with: python -m launcher.report {sweep_dir})",
              file=sys.stderr)
        return None
    print(format_top(report, top), file=out)
    return report


# --- results.md -------------------------------------------------------------------------

def markdown(report: Report) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in report.status_counts().items())
    mode = "run mode" if report.sweep.mode == "run" else "script mode"
    lines = [f"# Results of {tables.md_text(report.folder.name)}", "",
             f"{tables.md_code(str(report.folder))} ({mode}): {len(report.runs)} runs, {counts}.",
             f"Ranked by **{report.ranking.metric}** ({report.ranking.direction}).", ""]
    if report.sweep.constants:
        same = ", ".join(f"{tables.md_code(k)} = {tables.md_text(tables.param_text(v))}"
                         for k, v in report.sweep.constants.items())
        lines += [f"Same in every run: {same}.", ""]
    config_keys = [k for k in report.keys if k != res.SEED_KEY]
    lines += ["## Runs, best first", ""]
    lines += tables.runs_markdown(report.runs, report.keys, report.columns, report.ranking)
    lines += ["", "Full paths of output folders and checkpoints: `results.csv`.", "",
              "## Configs, seeds aggregated, best first", "",
              "Mean ± sample standard deviation over each config's finished runs (`n_finished`).", ""]
    lines += tables.configs_markdown(report.configs, config_keys, report.columns)
    if report.plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{name[:-4]}](plots/{name})" for name in report.plots]
    if report.board:
        command = f"tensorboard --logdir {report.folder / 'tensorboard'}"
        lines += ["", f"HParams: {tables.md_code(command)}", ""]
    else:
        lines += ["", f"HParams: not written (tensorboard is not installed): `{tensorboard.INSTALL_HINT}`, "
                      "then run the report again.", ""]
    return "\n".join(lines)


# --- writing ----------------------------------------------------------------------------

def _draw(path: str, report: Report) -> List[str]:
    from launcher.report import plots

    return plots.draw_all(path, report.runs, report.configs, report.keys, report.ranking)


def _board(path: str, report: Report) -> None:
    ordered = sorted(report.runs, key=lambda r: r.source.index)
    tensorboard.write_board(path, ordered, report.keys, report.columns)


def _write(path: Path, text: str) -> None:
    from launcher.output.staging import atomic_write

    atomic_write(path, text)


def _build_folder(parent: Path, name: str, fill: Callable[[str], T]) -> T:
    """``fill`` a fresh folder beside ``parent/name``, then swap it in whole."""
    new = parent / f"{_TMP}{os.getpid()}-{name}"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    try:
        value = fill(str(new))
        _swap_in(new, parent / name)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return value


def _swap_in(new: Path, target: Path) -> None:
    old = target.with_name(f"{_TMP}{os.getpid()}-old-{target.name}")
    for _ in range(5):  # another report may swap its own folder in between; then go again
        with contextlib.suppress(FileNotFoundError):
            os.rename(target, old)
        try:
            os.rename(new, target)
            break
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(folder: Path) -> None:
    """Temporary folders of reports that were killed (their process is gone)."""
    for entry in folder.glob(f"{_TMP}*"):
        pid = entry.name[len(_TMP):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
