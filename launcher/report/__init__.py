"""Reports on finished and running trainings: robomimic logs and TensorBoard event files, read with the standard library alone.

A sweep's report (``python -m launcher.report SWEEP_DIR``, and the end of run mode)
answers "which hyperparameters won?": results.csv, results_by_config.csv, results.md,
plots/ and tensorboard/ (HParams) in the sweep folder. Nothing is imported until used,
so ``import launcher.report`` costs nothing for script mode and plugin discovery.

    from launcher.report import write_report, format_top
    report = write_report("multirun/2026-11-25/17-52-14")
    print(format_top(report))
"""
from typing import Any

__all__ = ["ReportError", "write_report", "format_top", "after_run"]


class ReportError(Exception):
    """A report cannot be made (no such folder, not a sweep, unknown metric); the
    message is one line for the user."""


def __getattr__(name: str) -> Any:
    if name in ("write_report", "format_top", "after_run", "Report"):
        from launcher.report import write

        return getattr(write, name)
    raise AttributeError(f"module 'launcher.report' has no attribute {name!r}")
