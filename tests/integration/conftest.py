"""Registers the ``integration`` marker and keeps these tests out of the default run.

Why: they train with real robomimic and torch (minutes, a 5 GB install), while the
default run must stay fast and torch-free. They run when asked for, by marker
(``python -m pytest -m integration``), by path (``python -m pytest tests/integration``)
or with ``ROBOMIMIC_INTEGRATION=1``.
"""
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: trains with real robomimic 0.3.0 (needs torch); "
                                       "run with -m integration")


def _asked_for(config: pytest.Config) -> bool:
    if "integration" in (config.option.markexpr or "") or os.environ.get("ROBOMIMIC_INTEGRATION") == "1":
        return True
    return any(Path(str(arg).split("::")[0]).resolve().is_relative_to(HERE) for arg in config.args)


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if _asked_for(config):
        return
    deselected = [item for item in items if item.get_closest_marker("integration")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("integration")]
