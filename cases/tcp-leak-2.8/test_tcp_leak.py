"""tcp-leak-2.8 against real builds: held on the archive releases, the control fires on a fixed build,
and (with a mirror) the mainline pair around the fix separates."""
from pathlib import Path

import pytest

from harness.case import find
from harness.runner import check
from tests.support import ARCHIVE_RELEASES, need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]
BAD, GOOD = "7a02fcaf20dbc19db36052bbc7001bcea3912ab5", "fbc3de6e9e59679d2e9ece3984ce31b6a7dd418f"


def run(variant_id, spec, images, prepared=None):
    (variant,) = find(variant_id)
    return check(variant, spec, images=images, prepared=prepared(spec) if prepared else None)


def assert_trigger_reached(result):
    pre = result.runs[0].preconditions
    assert all(v.startswith("ok") for v in pre.values()), pre


@pytest.mark.parametrize("spec", ARCHIVE_RELEASES)
def test_archive_releases_hold(spec, images, prepared):
    r = run("tcp-leak-2.8/recipe", spec, images, prepared)
    assert r.verdict == "held", r.reason
    assert_trigger_reached(r)
    assert r.seconds < 30 * len(r.runs)   # each run well inside its bound (the power plan sets how many)
    # the trigger window as packets: every server-side tunnel reset (RST from port 9000) and every client one
    flows = (Path(r.runs[0].artifacts) / "trigger-flows.txt").read_text().splitlines()
    resets = [f for f in flows if not f.endswith("RST 0")]
    assert sum(":9000 > " in f for f in resets) >= 45 and sum("> 127.0.0.1:8080" in f for f in resets) >= 45, flows
    assert (Path(r.runs[0].artifacts) / "trigger.pcap").stat().st_size > 10000


def test_control_without_timeout_server_fires_on_fixed_build(images, prepared):
    r = run("tcp-leak-2.8/no-timeout-server", "3.0.11", images, prepared)
    assert r.verdict == "reproduced", r.reason
    d = r.runs[0].findings[0]["details"]
    assert d["no_expiry"] >= 45 and d["curr_conns"] >= 45
    fds = r.runs[0].findings[1]["details"]
    assert fds["growth"] >= 90, fds   # both fds of every stuck stream stay open


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(BAD, "reproduced"), (GOOD, "held")])
def test_mainline_pair_around_the_fix(commit, verdict, images):
    repo = need_mirror(commit)
    r = run("tcp-leak-2.8/recipe", f"git:{repo}@{commit[:9]}", images)
    assert r.expected == verdict, r.expected_why      # from ancestry of fbc3de6e9
    assert r.verdict == verdict, r.reason
    assert_trigger_reached(r)
