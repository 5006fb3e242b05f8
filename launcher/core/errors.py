"""The one exception the launcher raises for bad input or a fault the user can fix.

Plain Python on purpose: the core does not know Hydra. The Hydra glue turns it
into Hydra's compact error (message only, no traceback, non-zero exit).
"""


class SweepError(Exception):
    """Bad sweep input or an OS-level fault; the message names the culprit and what to do."""
