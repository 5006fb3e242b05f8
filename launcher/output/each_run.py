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
from typing import Callable, Optional, Tuple

from launcher.core.params import Choice
from launcher.core.plan import SweepPlan
from launcher.core.render import ConfigRenderer
from launcher.output.checks import RunNames, check_targets
from launcher.output.interrupts import Interrupts
from launcher.output.locks import Locks
from launcher.output.staging import NewFolders, SweepWriter, check_writable, clean_leftovers
from launcher.request.launch_options import LaunchOptions
from launcher.robomimic.train_command import TrainCommand


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
    config_dir = os.path.join(str(options.config_dir), "")  # str joins: pathlib costs more than rendering here
    for index, (name, choice) in enumerate(plan.runs()):
        names.add(name, choice)
        count += 1
        if render is None:
            continue
        file_name = f"{name}.json"
        run = RunFiles(index, name, choice, config_dir + file_name, render(name, choice))
        if visit is not None:
            visit(run)
        if writer is not None:
            writer.add(file_name, run.text)
            if command is not None:
                writer.script_write(command.line(run.config_path) + "\n")
    return count


def write_runs(
    plan: SweepPlan,
    options: LaunchOptions,
    command: TrainCommand,
    locks: Locks,
    folders: NewFolders,
    interrupts: Optional[Interrupts] = None,
    visit: Optional[Visitor] = None,
    before_commit: Callable[[], None] = lambda: None,
    names: Tuple[str, str] = ("launch.config_dir", "launch.script_file"),
) -> int:
    """Lock the config folder and the script, check and stage every run, put them in place.

    The one way every writer (script mode, run mode, the drop-in ConfigGenerator) gets
    its files: the targets are locked before the "nothing lost" check and stay locked
    until the caller's ``locks`` are released; ``before_commit`` runs last, while
    nothing is in place yet (run mode claims its output folders there). ``names`` are
    the targets' names in messages.
    """
    check_targets(options)
    for folder, what in ((options.config_dir.parent, names[0]), (options.script_file.parent, names[1])):
        check_writable(folder, what, folders)
    locks.lock(options.config_dir, names[0])
    locks.lock(options.script_file, names[1])
    clean_leftovers(options)
    with SweepWriter(options.config_dir, options.script_file, options.overwrite) as writer:
        count = prepare_runs(plan, options, command, writer, visit)
        before_commit()
        if interrupts is not None:
            interrupts.armed = False  # the renames finish: the files appear whole and together
        writer.commit()
    if interrupts is not None:
        interrupts.armed = True
        interrupts.raise_if_interrupted()
    return count
