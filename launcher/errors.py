"""The one exception the launcher raises for bad input."""
from hydra.errors import CompactHydraException


class SweepError(CompactHydraException):
    """Bad sweep input. Hydra prints only the message (no traceback) and exits non-zero."""
