"""An interrupt during shielded cleanup is delivered after it, never in the middle."""
import os
import signal

import pytest

from harness.shield import shielded


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_waits_for_the_end_of_the_block(sig):
    done = []
    before = signal.getsignal(sig)
    with pytest.raises(KeyboardInterrupt):
        with shielded():
            os.kill(os.getpid(), sig)
            done.append("cleanup finished")
    assert done == ["cleanup finished"]
    assert signal.getsignal(sig) == before


def test_no_interrupt_no_exception():
    with shielded():
        pass


def test_an_interrupt_is_remembered_even_when_a_library_swallows_it(monkeypatch):
    """matplotlib turned a KeyboardInterrupt into "ValueError: Invalid bounding box" in a CI run: the run
    must still end as interrupted, so hrt remembers that an interrupt arrived."""
    from harness import shield
    monkeypatch.setattr(shield, "_requested", type(shield._requested)())
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        shield.install()
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except KeyboardInterrupt:
            pass   # what a library might do with it
        assert shield.requested()
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
