"""The three things a sweep can do, once the request is read: list, script, run.

* ``list``: check the whole sweep and print its runs (index, name, swept values); write nothing.
* ``script``: write every run's JSON and ``run.sh``, as robomimic's ``hyperparam_helper.py`` does.
* ``run``: the same files, then train every run through Hydra's launcher.
"""
import sys
from typing import Any, List

from launcher.app_config import SweepRequest
from launcher.checks import check_targets
from launcher.files import NewFolders, SweepWriter, check_writable
from launcher.interrupts import Interrupts, SweepInterrupted
from launcher.locks import Locks, holder_note
from launcher.options import train_command
from launcher.plan import make_plan
from launcher.prepare import prepare_runs


def run(request: SweepRequest, hydra_jobs: Any) -> List[Any]:
    plan = make_plan(request)
    options = request.options
    if options.mode == "list":
        list_runs(plan, options)
    elif options.mode == "script":
        write_script(plan, request, hydra_jobs.sweep_dir)
    else:
        from launcher.run_mode.launch import launch_sweep

        return launch_sweep(plan, options, request.cwd, hydra_jobs)
    return []


def list_runs(plan: Any, options: Any) -> None:
    count = prepare_runs(plan, options)
    width = len(str(count))
    for index, (name, choice) in enumerate(plan.runs()):
        values = ", ".join(f"{key}={value!r}" for key, value in plan.assignments(choice))
        print(f"{index:>{width}}  {name}  {values}")
    print(f"{count} run{'s' if count != 1 else ''}")


def write_script(plan: Any, request: SweepRequest, sweep_dir: Any) -> None:
    from launcher.run_mode.launch import clean_leftovers

    options = request.options
    command = train_command(options, request.cwd, run_mode=False)
    check_targets(options)
    try:
        with NewFolders() as folders, Interrupts() as interrupts, Locks(holder_note(sweep_dir)) as locks:
            for folder, what in ((options.config_dir.parent, "launch.config_dir"),
                                 (options.script_file.parent, "launch.script_file")):
                check_writable(folder, what, folders)
            locks.lock(options.config_dir, "launch.config_dir")
            locks.lock(options.script_file, "launch.script_file")
            clean_leftovers(options)
            with SweepWriter(options.config_dir, options.script_file, options.overwrite) as writer:
                count = prepare_runs(plan, options, command, writer)
                interrupts.armed = False  # the renames finish: the files appear whole and together
                writer.commit()
    except SweepInterrupted as stop:
        print(f"Interrupted: nothing was written to {options.config_dir} or {options.script_file}",
              file=sys.stderr)
        raise SystemExit(stop.exit_code) from None
    print(f"Wrote {count} robomimic configs to {options.config_dir}")
    print(f"Wrote {options.script_file} ({count} runs): bash {options.script_file}")
