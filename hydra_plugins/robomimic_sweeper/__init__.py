"""Hydra instantiates plugins only from the ``hydra_plugins`` namespace package.

The sweeper lives in :mod:`launcher.sweeper`; this subclass is its registered name.
"""
import launcher.sweeper as _sweeper


class RobomimicSweeper(_sweeper.RobomimicSweeper):
    """See :class:`launcher.sweeper.RobomimicSweeper`."""
