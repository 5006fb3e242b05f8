"""The report's PNGs: learning curves of the best runs, and the ranking metric against
each swept key.

Why matplotlib's object API (``Figure`` + the Agg canvas) and not pyplot: no display,
no global figure state, and nothing imported until a report is drawn. matplotlib is
imported here only, and this module only when a report is written.

* ``curves_<name>.png``: train loss, validation loss and, per rollout env, success rate
  per epoch, for at most the best :data:`MAX_CURVES` runs (by the ranking metric) that
  have that curve, each labelled with the part of its name that tells it apart.
* ``by_<key>.png``: for each swept key but the seed, the ranking metric at each of its
  values: every config (runs differing only in the seed) as its mean with a bar of
  one standard deviation over its seeds, and the mean over all finished runs with that
  value as a line.
"""
import json
import os
import re
import textwrap
from typing import Any, Dict, List, Sequence, Tuple

from launcher.report.metrics import ConfigGroup, Ranking, RunResult
from launcher.report.sources import SEED_KEY

MAX_CURVES = 10
TITLE_CHARS_PER_INCH = 9  # of a figure title at matplotlib's default size, with a margin
CURVE_TITLES = {"train_loss": "training loss", "valid_loss": "validation loss"}


def short_names(names: Sequence[str]) -> List[str]:
    """What tells each of ``names`` apart: the ``_``-separated parts that differ between
    them, each with the label before it (``plr_0.001_seed_1`` of
    ``bc_rnn_hyper_plr_0.001_gmm_t_seed_1``); for names of different shapes, the names
    without their common prefix and suffix. A name that would be left empty stays whole."""
    if len(names) < 2:
        return list(names)
    parts = [n.split("_") for n in names]
    if len({len(p) for p in parts}) == 1:
        differ = [i for i in range(len(parts[0])) if len({p[i] for p in parts}) > 1]
        labels = [i - 1 for i in differ if i >= 1 and i - 1 not in differ and not _is_number(parts[0][i - 1])]
        keep = sorted(set(differ) | set(labels))
        short = ["_".join(p[i] for i in keep) for p in parts]
    else:
        prefix = _common_length(parts)
        suffix = _common_length([p[prefix:][::-1] for p in parts])
        short = ["_".join(p[prefix:len(p) - suffix]) for p in parts]
    return [s or n for s, n in zip(short, names)]


def _common_length(parts: Sequence[Sequence[str]]) -> int:
    n = 0
    while all(len(p) > n for p in parts) and len({p[n] for p in parts}) == 1:
        n += 1
    return n


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def file_part(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "_"


def draw_all(folder: str, ranked: Sequence[RunResult], groups: Sequence[ConfigGroup], keys: Sequence[str],
             ranking: Ranking) -> List[str]:
    """Every plot into ``folder``; returns the file names written."""
    written = []
    curve_names = list(dict.fromkeys(name for r in ranked for name in r.curves))
    for curve in sorted(curve_names, key=_curve_order):
        name = f"curves_{file_part(curve)}.png"
        if _draw_curves(os.path.join(folder, name), ranked, curve, ranking):
            written.append(name)
    for key in keys:
        if key == SEED_KEY:
            continue
        name = f"by_{file_part(key)}.png"
        if _draw_by_key(os.path.join(folder, name), ranked, groups, key, ranking):
            written.append(name)
    return written


def _curve_order(name: str) -> Tuple[int, str]:
    return (["train_loss", "valid_loss"].index(name) if name in CURVE_TITLES else 2, name)


def _figure(width: float = 8.0, height: float = 4.8) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _draw_curves(path: str, ranked: Sequence[RunResult], curve: str, ranking: Ranking) -> bool:
    figure = curves_figure(ranked, curve, ranking)
    if figure is None:
        return False
    figure.savefig(path)
    return True


def curves_figure(ranked: Sequence[RunResult], curve: str, ranking: Ranking) -> Any:
    """The learning curves of the best runs that have ``curve``; None if none has it."""
    runs = [r for r in ranked if curve in r.curves][:MAX_CURVES]
    if not runs:
        return None
    title = CURVE_TITLES.get(curve) or f"success rate in {curve.split('/', 1)[1]}"
    labels = [f"{i}. {label}" + ("" if run.finished else f" ({run.status})")
              for i, (run, label) in enumerate(zip(runs, short_names([r.name for r in runs])), 1)]
    figure = _figure(6.0 + 0.075 * max(len(label) for label in labels), 4.8)
    axes = figure.add_subplot()
    for run, label in zip(runs, labels):
        epochs, values = zip(*run.curves[curve])
        axes.plot(epochs, values, marker="." if len(epochs) < 30 else None, label=label)
    axes.set_xlabel("epoch")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel(title)
    # Over the whole figure, wrapped to its width: centred over the axes alone (the legend takes
    # the right), a long title ran past the figure's left edge and was cut off.
    heading = f"{title}: the best {len(runs)} runs by {ranking.metric} ({ranking.direction})"
    figure.suptitle(textwrap.fill(heading, int(figure.get_figwidth() * TITLE_CHARS_PER_INCH)))
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return figure


def _value_order(values: Sequence[Any]) -> List[str]:
    """A key's distinct values as JSON, numbers in numeric order, others as first seen."""
    distinct = list(dict.fromkeys(json.dumps(v, sort_keys=True) for v in values))
    parsed = [json.loads(v) for v in distinct]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in parsed):
        return [d for _, d in sorted(zip(parsed, distinct))]
    return distinct


def _draw_by_key(path: str, ranked: Sequence[RunResult], groups: Sequence[ConfigGroup], key: str,
                 ranking: Ranking) -> bool:
    metric = ranking.metric
    finished = [r for r in ranked if r.finished and metric in r.metrics]
    if not finished:
        return False
    order = _value_order([r.source.params.get(key) for r in ranked])
    x_of = {value: i for i, value in enumerate(order)}
    figure = _figure(max(6.5, 1.2 * len(order) + 2.5), 4.8)
    axes = figure.add_subplot()
    _draw_configs(axes, groups, key, metric, x_of)
    by_value: Dict[str, List[float]] = {}
    for r in finished:
        by_value.setdefault(json.dumps(r.source.params.get(key), sort_keys=True), []).append(r.metrics[metric])
    xs = [x_of[v] for v in order if v in by_value]
    means = [sum(by_value[v]) / len(by_value[v]) for v in order if v in by_value]
    axes.plot(xs, means, color="tab:blue", marker="o", linewidth=2, label="mean of all runs with this value")
    axes.set_xticks(range(len(order)), [_tick(v) for v in order], rotation=30 if len(order) > 6 else 0)
    axes.set_xlabel(key)
    axes.set_ylabel(metric)
    axes.set_title(f"{metric} ({ranking.direction})", fontsize="medium")
    axes.grid(alpha=0.3, axis="y")
    axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    figure.savefig(path)
    return True


def _draw_configs(axes: Any, groups: Sequence[ConfigGroup], key: str, metric: str, x_of: Dict[str, int]) -> None:
    """Each config's mean ± std over its seeds, spread a little sideways so they do not
    hide each other (one errorbar call: a sweep may have hundreds of configs)."""
    points = [(x_of[json.dumps(g.values.get(key), sort_keys=True)], g.stats[metric]) for g in groups
              if metric in g.stats and json.dumps(g.values.get(key), sort_keys=True) in x_of]
    if not points:
        return
    per_x: Dict[int, int] = {}
    for x, _ in points:
        per_x[x] = per_x.get(x, 0) + 1
    seen: Dict[int, int] = {}
    xs, means, stds = [], [], []
    for x, (mean, std) in points:
        i = seen[x] = seen.get(x, -1) + 1
        xs.append(x + (0.0 if per_x[x] == 1 else 0.5 * (i / (per_x[x] - 1) - 0.5)))
        means.append(mean)
        stds.append(std or 0.0)
    axes.errorbar(xs, means, yerr=stds, fmt="o", color="0.45", markersize=4, capsize=2, alpha=0.8,
                  label="a config: mean ± std over seeds")


def _tick(value_json: str) -> str:
    value = json.loads(value_json)
    text = value if isinstance(value, str) else value_json
    return text if len(text) <= 18 else text[:15] + "..."
