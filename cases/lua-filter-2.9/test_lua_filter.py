"""lua-filter-2.9 (haproxy#2467) against real builds.

CI part (archive releases, builds cached): both variants hold on 3.0.11; 2.6.12 has the lock race
(a crash, or else Lua filter alerts), while mixed loading cannot even be triggered there (it predates
09133860b: untestable); the nbthread-1 control holds on 2.6.12. The case's budgets are used as they
are; the shared-state variant runs once here instead of its 3 runs (CI time). Mirror part: the
expectations from ancestry and the mainline pairs around each fix.
"""
import pytest

from harness.case import find
from harness.runner import check
from tests.support import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]

MIXED_BAD, MIXED_GOOD = "aa554be69c645d49831875aa53c7eb67af07c31a", "07b2e84bce518cc6321e8c9014f75669993dac7c"
SHARED_BAD, SHARED_GOOD = "369bfa0b50396a496a03fad59844196a3287784e", "85d81e4d0a3d71c653f2e1fcc76b6cd0f03a09d0"


def run(variant_id, spec, images, prepared=None, runs=None):
    (variant,) = find(variant_id)
    return check(variant, spec, runs=runs, images=images, prepared=prepared(spec) if prepared else None)


def assert_held_with_evidence(r):
    """Held means: HAProxy survived the whole budget, every stream went through the lua-load filter,
    no Lua filter alert, no core."""
    assert r.verdict == "held", r.reason
    for run_ in r.runs:
        assert all(v.startswith("ok") for v in run_.preconditions.values()), run_.preconditions
        crash, alerts = run_.findings
        assert crash["details"]["signals"] == [] and crash["details"]["cores"] == [], crash
        assert alerts["details"]["count"] == 0, alerts["details"]["first"]
        assert run_.notes["filters_created_rg"] >= run_.notes["connections"] >= 10000, run_.notes


def assert_crashed(r, signature_frame="hlua_"):
    assert r.verdict == "reproduced", r.reason
    crashed = [x for x in r.runs if x.verdict == "reproduced"]
    crash = crashed[0].findings[0]
    assert set(crash["details"]["signals"]) <= {"SIGSEGV", "SIGABRT"}, crash
    assert crash["details"]["cores"], "no core file kept"
    assert signature_frame in crash["details"]["signature"], crash["details"]["signature"]
    assert any(p.endswith("backtrace.txt") for p in r.evidence)


# ---- CI: archive releases -------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["shared-state", "mixed-load"])
def test_3_0_11_holds(variant, images, prepared):
    r = run(f"lua-filter-2.9/{variant}", "3.0.11", images, prepared, runs=1)
    assert r.expected == "held", r.expected_why
    assert_held_with_evidence(r)


def test_2_6_12_has_the_lock_race(images, prepared):
    """Measured 4/5 crashes within 60 s (SIGABRT: glibc heap checks or the watchdog; median 6 s); the
    run that survived logged 644 Lua filter alerts. One run: a crash, or else the alerts."""
    r = run("lua-filter-2.9/shared-state", "2.6.12", images, prepared, runs=1)
    assert r.expected == "reproduced", r.expected_why
    if r.verdict == "reproduced":
        assert_crashed(r)
    else:
        alerts = r.runs[0].findings[1]["details"]["count"]
        assert alerts > 0, f"no crash and no Lua filter alert on a racy build: {r.reason}"


def test_2_6_12_mixed_load_cannot_be_triggered(images, prepared):
    """2.6.12 predates 09133860b (2.6.16): the lua-load filter never attaches to a stream whose Lua
    context lives in the per-thread state ('attempt to index a number value' on every stream), so
    bug 2's path is not reached: untestable, never held."""
    r = run("lua-filter-2.9/mixed-load", "2.6.12", images, prepared)
    assert r.verdict == "untestable", r.reason
    assert "trigger not reached" in r.reason and "0 rg filters created" in r.reason, r.reason
    run_ = r.runs[0]
    assert run_.findings[0]["details"]["signals"] == []
    assert run_.findings[1]["details"]["count"] >= 0.95 * run_.notes["connections"] > 0


def test_one_thread_control_holds_on_a_racy_build(images, prepared):
    """The control: the lock-race recipe with nbthread 1 on 2.6.12, which crashes with nbthread 2."""
    r = run("lua-filter-2.9/shared-state-1thread", "2.6.12", images, prepared)
    assert r.expected == "held"
    assert_held_with_evidence(r)


# ---- mirror: the mainline pairs -------------------------------------------------------------------

@pytest.mark.mirror
@pytest.mark.parametrize("variant,commit,truth", [
    ("shared-state", SHARED_BAD, "reproduced"),
    ("shared-state", SHARED_GOOD, "held"),
    ("mixed-load", MIXED_GOOD, "held"),
    ("mixed-load", MIXED_BAD, "reproduced"),   # has bug 1's fix, not bug 2's: the variant's own fix_commits
])
def test_commit_expectations(variant, commit, truth):
    """The expectation from ancestry must match what was measured (no build, no run)."""
    from harness.expectation import expect
    from harness.sources import resolve
    from harness.spec import parse_spec
    repo = need_mirror(commit)
    (v,) = find(f"lua-filter-2.9/{variant}")
    assert expect(v, resolve(parse_spec(f"git:{repo}@{commit[:9]}")), "").verdict == truth


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(MIXED_BAD, "reproduced"), (MIXED_GOOD, "held")])
def test_mixed_load_pair(commit, verdict, images):
    repo = need_mirror(commit)
    r = run("lua-filter-2.9/mixed-load", f"git:{repo}@{commit[:9]}", images)
    if verdict == "reproduced":
        assert_crashed(r, "hlua_")
        assert r.runs[0].notes["seconds_to_exit"] < 5    # measured 0.25 s: deterministic
    else:
        assert_held_with_evidence(r)


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(SHARED_BAD, "reproduced"), (SHARED_GOOD, "held")])
def test_shared_state_pair(commit, verdict, images):
    repo = need_mirror(commit)
    r = run("lua-filter-2.9/shared-state", f"git:{repo}@{commit[:9]}", images)   # the case's 3 runs
    assert r.expected == verdict, r.expected_why
    if verdict == "reproduced":
        assert_crashed(r)
    else:
        assert_held_with_evidence(r)


@pytest.mark.mirror
def test_one_thread_control_on_the_lock_race_bad_build(images):
    repo = need_mirror(SHARED_BAD)
    r = run("lua-filter-2.9/shared-state-1thread", f"git:{repo}@{SHARED_BAD[:9]}", images)
    assert_held_with_evidence(r)
