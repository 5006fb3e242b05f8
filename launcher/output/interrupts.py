"""Ctrl-C, SIGTERM and SIGHUP as an orderly stop instead of a traceback.

While a sweep works, those signals raise :class:`SweepInterrupted` in the main
thread (once): files being staged are removed, run mode stops its trainings and
records them, and the sweep exits with 128 + the signal number (130 for Ctrl-C,
143 for SIGTERM), as a shell expects. Run mode leaves SIGHUP out (a lost terminal
must not stop runs that outlive it) and ignores it instead. Callbacks run first, inside the handler, to
stop what must stop at once (the trainings). It derives from ``BaseException``
so that Hydra's ``run_job``, which catches ``Exception``, lets it through.
"""
import signal
import threading
from typing import Any, Callable, Dict, List, Optional

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
Handlers = Dict[int, Any]  # signal -> handler, as signal.signal takes and returns them


def install(handlers: Handlers) -> Handlers:
    """Install ``handlers``; the ones they replace, for :func:`restore`. Only the main thread
    can install a handler: elsewhere nothing is installed (and nothing is to restore)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}


def restore(previous: Handlers) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


class SweepInterrupted(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class Interrupts:
    """Installs the handlers for the ``with`` block; restores the previous ones after."""

    def __init__(self, hangup: bool = True) -> None:
        # hangup=False: SIGHUP is not a stop (run mode: a lost terminal costs the runs nothing).
        self.signals = SIGNALS if hangup else tuple(s for s in SIGNALS if s != signal.SIGHUP)
        self.signum: Optional[int] = None
        self.armed = True  # raise on the first signal; off while the sweep winds down
        self.callbacks: List[Callable[[int], None]] = []
        self._previous: Handlers = {}

    def __enter__(self) -> "Interrupts":
        self._previous = install({sig: self._handle for sig in self.signals})
        return self

    def __exit__(self, *exc: object) -> None:
        restore(self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        for callback in self.callbacks:
            callback(signum)
        if first and self.armed:
            raise SweepInterrupted(signum)

    def raise_if_interrupted(self) -> None:
        """For code that ran with the handlers disarmed."""
        if self.signum is not None:
            raise SweepInterrupted(self.signum)
