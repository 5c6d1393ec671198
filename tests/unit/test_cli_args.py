"""Bad command lines end at argparse with a clear message and exit 2, before any source is touched."""
import subprocess
import sys

import pytest

HRT = [sys.executable, "-m", "harness.cli"]


CHECK = ["check", "canary-crash", "--haproxy", "3.0.11"]
RUNS = "expected a whole number of runs >= 1, got "


@pytest.mark.parametrize("args,says", [
    ([*CHECK, "--runs", "-1"], RUNS + "'-1'"),
    ([*CHECK, "--runs", "0"], RUNS + "'0'"),
    (["test", "3.0.11", "--runs", "two"], RUNS + "'two'"),
    ([*CHECK, "--profile", "typo"], "invalid choice: 'typo'"),
])
def test_bad_arguments_are_usage_errors(args, says):
    p = subprocess.run([*HRT, *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and says in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
