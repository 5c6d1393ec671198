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
