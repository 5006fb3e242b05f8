"""One pass over a sweep's runs: check each, render its config once, stage its files.

Every mode goes through here. ``list`` only checks; ``script`` and ``run`` also
stage each run's JSON and its line of ``run.sh`` with a :class:`SweepWriter`, which
puts nothing in place until the whole sweep has passed. Run mode looks at each
run as it goes by (its dataset, its output folder, whether it already finished)
through ``visit``. Memory stays flat: runs are expanded lazily and only their
names (for the collision check) are kept.
"""
import os
from dataclasses import dataclass
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
    config_path: str  # absolute
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
    config_dir = str(options.config_dir)  # str joins: pathlib costs more than rendering here
    for index, (name, choice) in enumerate(plan.runs()):
        names.add(name, choice)
        count += 1
        if render is None:
            continue
        file_name = f"{name}.json"
        run = RunFiles(index, name, choice, os.path.join(config_dir, file_name), render(name, choice))
        if visit is not None:
            visit(run)
        if writer is not None:
            writer.add(file_name, run.text)
            if command is not None:
                writer.script_write(command.line(run.config_path) + "\n")
    return count
