"""The report's tables: results.csv, results_by_config.csv, results.md, and the top rows
printed to the terminal.

Why these formats: the CSVs are for pandas and spreadsheets, so numbers keep every digit
(Python's shortest round-trip repr) and swept values are JSON (``true``, ``[1024, 1024]``,
``null``), as in the run's config; results.md is for reading, so numbers have 4
significant digits, configs show ``mean ± std``, and paths shrink to file names.

Names, values and reasons are the user's text, and a spreadsheet runs a cell that
starts with ``=``, ``+``, ``-`` or ``@`` as a formula: text cells that start so get a
leading ``'``, as OWASP recommends against CSV injection (numbers stay numbers). In
results.md, text is escaped wherever Markdown would read it as markup.
"""
import csv
import io
import json
import re
from typing import Any, Iterable, List, Optional, Sequence

from launcher.report.metrics import ConfigGroup, Ranking, RunResult


def param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def number_text(value: Optional[float]) -> str:
    """Every digit: ``float(text) == value``."""
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def short_number(value: Optional[float]) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"


# --- CSV ----------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula (OWASP's CSV injection
    advice); a carriage return becomes a line break, which the CSV writer quotes."""
    cell = text.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + cell if text.startswith(_FORMULA_STARTS) else cell


def csv_param(value: Any) -> str:
    """A swept value: JSON numbers and lists as they are, strings as text cells."""
    return csv_text(value) if isinstance(value, str) else json.dumps(value)


def runs_csv(results: Sequence[RunResult], keys: Sequence[str], columns: Sequence[str], ranking: Ranking) -> str:
    header = ["run", "status", *keys, *columns, "best_checkpoint", "output_dir", "reason"]
    rows: List[List[str]] = [[csv_text(h) for h in header]]
    for r in results:
        rows.append([
            csv_text(r.name), r.status, *(csv_param(r.source.params.get(k)) for k in keys),
            *(number_text(r.metrics.get(c)) for c in columns),
            *(csv_text(text) for text in (r.best_checkpoint(ranking.metric), r.source.output_dir or "", r.reason)),
        ])
    return _csv(rows)


def configs_csv(groups: Sequence[ConfigGroup], keys: Sequence[str], columns: Sequence[str]) -> str:
    header = ["n_runs", "n_finished"] + [f"{c}_{stat}" for c in columns for stat in ("mean", "std")]
    rows: List[List[str]] = [[csv_text(h) for h in (*keys, *header)]]
    for g in groups:
        stats = [text for c in columns for text in _stat_texts(g, c)]
        rows.append([*(csv_param(g.values.get(k)) for k in keys), str(len(g.runs)), str(g.n_finished), *stats])
    return _csv(rows)


def _stat_texts(group: ConfigGroup, column: str) -> List[str]:
    mean, std = group.stats.get(column, (None, None))
    return [number_text(mean), number_text(std)]


def _csv(rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


# --- Markdown -----------------------------------------------------------------------------

_MARKUP = re.compile(r"[\\`*\[\]|<>&~]|_+")
# Entities where a backslash does not escape in every Markdown (Python-Markdown, which MkDocs uses).
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "~": "&#126;"}


def md_text(text: str) -> str:
    """``text`` as Markdown shows it literally, on one line: markup characters escaped.
    Underscores inside a word are left alone (``lr_0.001_seed_1``): Markdown never reads them
    as emphasis, and names stay readable in the raw file."""
    def escape(match: "re.Match[str]") -> str:
        start, end = match.span()
        found = match.group()
        if found[0] == "_" and 0 < start and end < len(text) and text[start - 1].isalnum() and text[end].isalnum():
            return found
        return _ENTITIES.get(found) or "".join("\\" + c for c in found)

    text = " ".join(text.splitlines())
    return _MARKUP.sub(escape, text)


def md_code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace(chr(10), ' ')}{pad}{fence}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[bool]) -> List[str]:
    lines = ["| " + " | ".join(md_text(h) for h in header) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return lines


def runs_markdown(ranked: Sequence[RunResult], keys: Sequence[str], columns: Sequence[str],
                  ranking: Ranking) -> List[str]:
    header = ["#", "run", "status", *keys, *columns, "best_checkpoint", "reason"]
    right = [True, False, False, *(False for _ in keys), *(True for _ in columns), False, False]
    rows = []
    for i, r in enumerate(ranked, 1):
        checkpoint = r.best_checkpoint(ranking.metric).rsplit("/", 1)[-1]
        rows.append([str(i), r.name, r.status, *(param_text(r.source.params.get(k)) for k in keys),
                     *(short_number(r.metrics.get(c)) for c in columns), checkpoint, r.reason])
    return _table(header, rows, right)


def configs_markdown(ranked: Sequence[ConfigGroup], keys: Sequence[str], columns: Sequence[str]) -> List[str]:
    header = ["#", *keys, "n_runs", "n_finished", *columns]
    right = [True, *(False for _ in keys), True, True, *(True for _ in columns)]
    rows = []
    for i, g in enumerate(ranked, 1):
        rows.append([str(i), *(param_text(g.values.get(k)) for k in keys), str(len(g.runs)), str(g.n_finished),
                     *(_mean_std(g, c) for c in columns)])
    return _table(header, rows, right)


def _mean_std(group: ConfigGroup, column: str) -> str:
    if column not in group.stats:
        return ""
    mean, std = group.stats[column]
    return short_number(mean) if std is None else f"{short_number(mean)} ± {short_number(std)}"


# --- the terminal ---------------------------------------------------------------------------

def top_rows(ranked: Sequence[RunResult], ranking: Ranking, n: int) -> str:
    """A short table of the best ``n`` runs: rank, the ranking metric and its epoch, status, run."""
    shown = list(ranked[:max(n, 0)])
    if not shown:
        return ""
    metric = ranking.metric
    values = [short_number(r.metrics.get(metric)) for r in shown]
    epochs = [str(r.metric_epochs[metric]) if metric in r.metric_epochs else "" for r in shown]
    width = max(len(metric), *(len(v) for v in values))
    lines = [f"{'#':>3}  {metric:>{width}}  {'epoch':>5}  {'status':<11}  run"]
    for i, (r, value, epoch) in enumerate(zip(shown, values, epochs), 1):
        lines.append(f"{i:>3}  {value:>{width}}  {epoch:>5}  {r.status:<11}  {r.name}")
    return "\n".join(lines)
