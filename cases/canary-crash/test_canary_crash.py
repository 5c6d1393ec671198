"""The crash oracle's sensitivity control against real HAProxy builds from Debian's archive: a deliberate
SIGSEGV and a CLI panic are crashes with a core and a backtrace; the same config without them holds."""
import dataclasses
from pathlib import Path

import pytest

from harness.case import OracleSpec, find
from harness.runner import check
from tests.support import ARCHIVE_RELEASES

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("spec", ARCHIVE_RELEASES)
@pytest.mark.parametrize("method", ["sigsegv", "panic"])
def test_crash_oracle_fires_with_core_and_backtrace(spec, method, images, prepared):
    (variant,) = find(f"canary-crash/{method}")
    r = check(variant, spec, images=images, prepared=prepared(spec))
    assert r.verdict == "reproduced", r.reason
    finding = r.runs[0].findings[0]
    assert finding["details"]["signals"] == ["SIGSEGV" if method == "sigsegv" else "SIGABRT"]
    assert finding["details"]["cores"], "no core file was kept"
    bt = next(Path(p) for p in r.evidence if p.endswith("backtrace.txt")).read_text()
    assert "src/haproxy.c" in bt or "src/cli.c" in bt, bt[:2000]   # HAProxy's own frames, with sources
    expected_frame = "run_poll_loop" if method == "sigsegv" else "debug_parse_cli_panic"
    assert expected_frame in finding["details"]["signature"]
    assert bool(finding["details"]["panic"]) == (method == "panic"), finding["details"]["panic"]


@pytest.mark.parametrize("spec", ARCHIVE_RELEASES)
def test_crash_oracle_holds_without_crash(spec, images, prepared):
    (variant,) = find("canary-crash/no-crash")
    r = check(variant, spec, images=images, prepared=prepared(spec))
    assert r.verdict == "held", r.reason
    assert r.runs[0].findings[0]["details"]["signals"] == []


@pytest.mark.parametrize("options,why", [
    ({"signals": ["SIGSEGV"]}, "not an accepted death: signals SIGSEGV"),          # a real SIGABRT, another signal
    ({"signals": ["SIGABRT"], "log": "no such line"}, "no output line /no such line/"),  # the signature's words
])
def test_a_death_that_is_not_the_accepted_one_is_untestable_never_held(options, why, images, prepared):
    """A real panic (SIGABRT) judged by a crash oracle that accepts only another death: the exposure ended
    early, so the run is untestable ("other failure"), never held."""
    (variant,) = find("canary-crash/panic")
    narrowed = dataclasses.replace(variant, oracles=(OracleSpec("crash", True, options),))
    r = check(narrowed, "3.0.11", images=images, prepared=prepared("3.0.11"))
    assert r.verdict == "untestable", r.reason
    assert "other failure" in r.reason and why in r.reason, r.reason
