"""Cleanup that an interrupt cannot cut in half: Ctrl-C or SIGTERM arriving while a block runs is held
back and delivered (as KeyboardInterrupt) when the block ends. Used around making a work dir and
around stopping a container and moving its evidence, so an interrupt at any moment leaves nothing."""
import signal
import threading
from contextlib import contextmanager


@contextmanager
def shielded():
    if threading.current_thread() is not threading.main_thread():   # only the main thread gets signals
        yield
        return
    pending = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            raise KeyboardInterrupt
