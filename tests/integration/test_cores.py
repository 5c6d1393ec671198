"""Cores wherever hrt runs: a host whose kernel.core_pattern pipes cores away (GitHub's runners, apport,
systemd-coredump) must fail the crash control under --strict, and `hrt setup` as root repairs it.
The host's settings are restored whatever happens."""
import json
import os
import subprocess
import sys

import pytest

from harness import cores

pytestmark = pytest.mark.docker
HRT = [sys.executable, "-m", "harness.cli"]


@pytest.fixture
def pipe_pattern():
    if os.geteuid() != 0:
        pytest.skip("changing kernel.core_pattern needs root")
    saved = cores.PATTERN.read_text(), cores.SUID_DUMPABLE.read_text()
    cores.PATTERN.write_text("|/bin/false %p\n")
    try:
        yield
    finally:
        cores.PATTERN.write_text(saved[0])
        cores.SUID_DUMPABLE.write_text(saved[1])


def hrt(*args):
    return subprocess.run([*HRT, *args], capture_output=True, text=True, timeout=300)


def test_lost_cores_fail_the_crash_control_then_setup_repairs_them(pipe_pattern, prepared):
    prepared("3.0.11")
    p = hrt("check", "canary-crash/sigsegv", "--haproxy", "3.0.11", "--strict", "--json")
    out = json.loads(p.stdout)
    assert p.returncode == 1, p.stderr                      # red, not a green skip
    assert out["verdict"] == "untestable" and out["expected"] == "reproduced"
    assert "'|/bin/false %p'" in p.stderr and "core_pattern" in p.stderr, p.stderr   # says why
    p = hrt("setup")
    assert p.returncode == 0, p.stderr
    assert "was '|/bin/false %p'" in p.stderr and cores.core_pattern() == "core", p.stderr
    p = hrt("check", "canary-crash/sigsegv", "--haproxy", "3.0.11", "--strict", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["verdict"] == "reproduced", p.stderr
