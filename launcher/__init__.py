"""Hydra sweep launcher for robomimic: grouped sweeps, robomimic-compatible configs.

``from launcher import ConfigGenerator`` gives the drop-in for robomimic's class
(:mod:`launcher.generator`). It is imported on first use only, so ``import launcher``
(which Hydra's plugin discovery and every run-mode job do) stays cheap.
"""
from typing import Any

__all__ = ["ConfigGenerator", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "ConfigGenerator":
        from launcher.generator import ConfigGenerator

        return ConfigGenerator
    raise AttributeError(f"module 'launcher' has no attribute {name!r}")
