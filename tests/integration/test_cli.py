"""The CLI contract: `hrt check --json` keys, `hrt test` table and exit status, `hrt versions`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker
HRT = [sys.executable, "-m", "harness.cli"]
KEYS = ["case", "haproxy", "version", "commit", "profile", "expected", "verdict", "runs", "reproduced_runs",
        "rate", "seconds", "evidence"]


def test_check_json_reports_crash_with_backtrace(prepared):
    prepared("3.0.11")
    p = subprocess.run([*HRT, "check", "canary-crash/panic", "--haproxy", "3.0.11", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert list(out) == KEYS
    assert out["verdict"] == out["expected"] == "reproduced" and out["version"].startswith("3.0.11")
    bt = [e for e in out["evidence"] if e.endswith("backtrace.txt")]
    assert bt and "debug_parse_cli_panic" in Path(bt[0]).read_text()


def test_versions_lists_sources(tmp_path):
    p = subprocess.run([*HRT, "versions", "3.0", "--limit", "40"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "HRT_GIT_MIRRORS": ""})
    assert p.returncode == 0, p.stderr
    assert "3.0.11" in p.stdout and "3.0.0" in p.stdout


def test_report_shows_verdicts_and_backtrace(tmp_path, prepared):
    prepared("3.0.11")
    env = {**os.environ, "HRT_RESULTS": str(tmp_path)}
    for case in ("canary-crash/panic", "canary-crash/no-crash"):
        subprocess.run([*HRT, "check", case, "--haproxy", "3.0.11"], env=env, capture_output=True, timeout=300,
                       check=True)
    p = subprocess.run([*HRT, "report", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    html = Path(p.stdout.strip()).read_text()
    assert "2 checks; 0 mismatch(es)" in html
    assert 'class="reproduced"' in html and 'class="held"' in html
    assert "debug_parse_cli_panic" in html       # the backtrace is inlined
