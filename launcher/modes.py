"""The three things a sweep can do, once the request is read: list, script, run.

* ``list``: check the whole sweep and print its runs (index, name, swept values); write nothing.
* ``script``: write every run's JSON and ``run.sh``, as robomimic's ``hyperparam_helper.py`` does.
* ``run``: the same files, then train every run through Hydra's launcher.
"""
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Hashable, List, Optional

from launcher.core.params import group_sizes, show_value
from launcher.core.plan import SweepPlan
from launcher.output.each_run import prepare_runs, write_runs
from launcher.output.interrupts import Interrupts, SweepInterrupted
from launcher.output.locks import Locks, holder_note
from launcher.output.staging import NewFolders
from launcher.request.hydra_config import SweepRequest
from launcher.request.planning import make_plan
from launcher.robomimic.versions import Robomimic, checked_against


@dataclass(frozen=True)
class HydraJobs:
    """What the modes need from Hydra: its launcher, the sweep dir, how many workers.

    Here, not in run mode, so that list and script mode do not import run mode."""

    launcher: Any  # hydra.plugins.launcher.Launcher
    sweep_dir: Path
    max_batch_size: Optional[int]
    launcher_target: str  # the launcher's _target_, for the checks that depend on it
    save_config: Callable[[Path], None]  # writes multirun.yaml, as Hydra's sweepers do
    slim_jobs: Callable[[], None] = lambda: None  # makes jobs compose only what they need
    # Fits a queue launcher's request to the runs: (launch.timeout_min, most train.num_data_workers).
    fit_launcher: Callable[[Optional[float], int], None] = lambda timeout_min, data_workers: None
    # How many runs the launcher trains at once (local: worker jobs to hand it), for N runs.
    parallelism: Callable[[int], int] = lambda runs: 1

    @property
    def queue(self) -> bool:
        """SLURM: the launcher submits job arrays (RobomimicSlurmLauncher)."""
        return hasattr(self.launcher, "submit_array")


def run(request: SweepRequest, hydra_jobs: HydraJobs) -> List[Any]:
    plan = make_plan(request)
    options = request.options
    report_excluded(plan)
    if options.mode == "list":
        list_runs(plan, options, request.robomimic)
    elif options.mode == "script":
        write_script(plan, request, hydra_jobs.sweep_dir)
        if Path(os.path.abspath(hydra_jobs.sweep_dir)) in (options.config_dir.parent, options.script_file.parent):
            # As Hydra's sweepers do; the report reads where the sweep was started from it.
            hydra_jobs.save_config(hydra_jobs.sweep_dir)
    else:
        from launcher.run_mode.launch import launch_sweep

        return launch_sweep(plan, options, request.cwd, hydra_jobs, request.robomimic)
    return []



def report_excluded(plan: SweepPlan) -> None:
    """Say how many runs ``exclude`` dropped, in every mode, before anything else happens."""
    if plan.exclude:
        kept, total = plan.count_runs()
        print(f"Excluded {total - kept} of {total} runs (exclude)")


def list_runs(plan: SweepPlan, options: Any, robomimic: Robomimic) -> None:
    """The dry run: every check script mode makes on the sweep, then one line a run
    (index, name, the values of the params that vary), the values every run shares
    once, and the count. Nothing is written."""
    count = prepare_runs(plan, options)
    try:
        _print_runs(plan, count, robomimic)
    except BrokenPipeError:
        # `launch.mode=list | head`: the reader has seen enough; stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _print_runs(plan: SweepPlan, count: int, robomimic: Robomimic) -> None:
    sizes: Dict[Hashable, int] = group_sizes(plan.params)
    varying = [i for i, p in enumerate(plan.params) if sizes[p.group] > 1]
    fixed = [p for p in plan.params if sizes[p.group] == 1]
    if fixed:
        print("every run: " + ", ".join(f"{p.key}={show_value(p.values[0])}" for p in fixed))
    width = len(str(max(count - 1, 0)))
    for index, (name, choice) in enumerate(plan.runs()):
        values = ", ".join(f"{plan.params[i].key}={show_value(plan.params[i].values[choice[i]])}" for i in varying)
        print(f"{index:>{width}}  {name}  {values}".rstrip())
    print(f"{count} run{'s' if count != 1 else ''} (launch.mode=list: nothing written; {checked_against(robomimic)})")


def write_script(plan: Any, request: SweepRequest, sweep_dir: Any) -> None:
    options = request.options
    command = options.train_command(request.cwd, run_mode=False, robomimic=request.robomimic)
    try:
        with NewFolders() as folders, Interrupts() as interrupts, Locks(holder_note(sweep_dir)) as locks:
            count = write_runs(plan, options, command, locks, folders, interrupts)
    except SweepInterrupted as stop:
        print(f"Interrupted: nothing was written to {options.config_dir} or {options.script_file}",
              file=sys.stderr)
        raise SystemExit(stop.exit_code) from None
    print(f"Wrote {count} robomimic configs to {options.config_dir} ({checked_against(request.robomimic)})")
    print(f"Wrote {options.script_file} ({count} runs): bash {options.script_file}")
