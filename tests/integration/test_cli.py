"""The CLI contract: `hrt check --json` keys, `hrt test` table and exit status, `hrt versions`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import look

pytestmark = pytest.mark.docker
HRT = [sys.executable, "-m", "harness.cli"]
ROOT = Path(__file__).resolve().parents[2]
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


@pytest.mark.browser
def test_hrt_test_writes_a_report_a_browser_shows(tmp_path, prepared):
    """`hrt test` leaves report.html in its results dir; Chromium shows the table, the backtrace and the
    stuck-streams control beside its held twin (the screenshot stays under results/ for CI)."""
    prepared("3.0.11")
    p = subprocess.run([*HRT, "test", "3.0.11", "--case", "canary-crash/panic", "--case", "canary-stuck-streams"],
                       env={**os.environ, "HRT_RESULTS": str(tmp_path)}, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    page = tmp_path / "test-3.0.11" / "report.html"
    assert f"report: {page}" in p.stderr
    seen = look(page, ROOT / "results" / "screenshots" / "report-hrt-test-3.0.11.png")
    verdicts = {c["case"]: c["verdict"] for c in seen["cells"]}
    assert verdicts == {"canary-crash/panic": "reproduced", "canary-stuck-streams/no-timeout": "reproduced",
                        "canary-stuck-streams/with-timeouts": "held"}
    assert all(c["haproxy"] == "3.0.11" and c["box"][0] > 0 for c in seen["cells"])
    assert any(i["alt"] == "canary-stuck-streams: bad vs good over time" and i["natural"][0] > 0 and i["box"][0] > 300
               for i in seen["images"]), seen["images"]
    assert "debug_parse_cli_panic" in page.read_text()       # the backtrace is inlined
