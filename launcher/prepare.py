"""One pass over a sweep's runs: check each, render its config once, stage its files.

Every mode goes through here. ``list`` only checks; ``script`` and ``run`` also
stage each run's JSON and its line of ``run.sh`` with a :class:`SweepWriter`, which
puts nothing in place until the whole sweep has passed. Run mode looks at each
run as it goes by (its dataset, its output folder, whether it already finished)
through ``visit``. Memory stays flat: runs are expanded lazily and only their
names (for the collision check) are kept.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from launcher.checks import RunNames
from launcher.core.params import Choice
from launcher.core.plan import SweepPlan
from launcher.core.render import ConfigRenderer
from launcher.files import SweepWriter
from launcher.options import LaunchOptions, TrainCommand


@dataclass(frozen=True)
class RunFiles:
    """One run as the pass saw it."""

    index: int
    name: str
    choice: Choice
    config_path: Path
    text: str  # the run's JSON, rendered once


Visitor = Callable[[RunFiles], None]


def prepare_runs(
    plan: SweepPlan,
    options: LaunchOptions,
    command: Optional[TrainCommand] = None,
    writer: Optional[SweepWriter] = None,
    visit: Optional[Visitor] = None,
) -> int:
    """Check every run (and stage its files into ``writer``); return how many runs there are."""
    names = RunNames(plan, options)
    render = ConfigRenderer(plan).text if (writer is not None or visit is not None) else None
    count = 0
    for index, (name, choice) in enumerate(plan.runs()):
        names.add(name, choice)
        count += 1
        if render is None:
            continue
        config_path = options.config_dir / f"{name}.json"
        run = RunFiles(index, name, choice, config_path, render(name, choice))
        if visit is not None:
            visit(run)
        if writer is not None:
            writer.add(config_path.name, run.text)
            if command is not None:
                writer.script_write(command.line(str(config_path)) + "\n")
    return count
