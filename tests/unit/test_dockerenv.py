"""Leftover detection: only objects whose owning hrt process is gone are removed."""
import os
import subprocess

from harness.dockerenv import OWNER, _orphaned, labels


def test_own_objects_are_not_orphaned():
    assert labels("x")[OWNER] == str(os.getpid())
    assert not _orphaned(labels("x"))


def test_dead_owner_or_no_owner_is_orphaned():
    p = subprocess.Popen(["true"])
    p.wait()
    assert _orphaned({OWNER: str(p.pid)})
    assert _orphaned({"hrt": "old"}) and _orphaned(None)
