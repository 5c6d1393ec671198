"""Interrupts (Ctrl-C, SIGTERM) as hrt handles them: both raise KeyboardInterrupt, which unwinds every
`with`/`finally` so containers are removed; `requested()` remembers one arrived even when a library
swallowed the exception (matplotlib turns it into a ValueError); and cleanup that an interrupt must not
cut in half runs `shielded()`: the interrupt is held back and delivered when the block ends."""
import signal
import threading
from contextlib import contextmanager

_requested = threading.Event()


def _interrupt(signum, frame):
    _requested.set()
    raise KeyboardInterrupt


def install() -> None:
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, _interrupt)


def requested() -> bool:
    """An interrupt arrived in this process (whatever became of its KeyboardInterrupt)."""
    return _requested.is_set()


@contextmanager
def shielded():
    if threading.current_thread() is not threading.main_thread():   # only the main thread gets signals
        yield
        return
    pending = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, lambda signum, frame: (_requested.set(), pending.append(signum)))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            raise KeyboardInterrupt
