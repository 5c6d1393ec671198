"""sticktable-race-2.9 against real builds. CI: 3.0.11 (not affected) held within a short budget, with
its exposure bound stated and the trigger path shown to be exercised. With a mirror: the expectations
of the mainline pair and of a 2.8-era commit from ancestry (no run: a race is not a CI gate)."""
import dataclasses

import pytest

from harness.case import find
from harness.expectation import expect
from harness.runner import check
from harness.sources import resolve
from harness.spec import parse_spec
from tests.support import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]
BAD, GOOD = "faa8c3e024b1e4e5833a8deaa6545675036544c6", "5fc1afb341be4cce82a1261ad18c34b3310654e8"
INTRODUCED = "322e4ab9d2ba41dcdd5bc03ca2a2f6805b5d71bd"


def short(load_s=40, timeout=55, **params):
    """The case with a CI budget (the run stays under 60 s): same config and client, less load."""
    (variant,) = find("sticktable-race-2.9")
    return dataclasses.replace(variant, params={**variant.params, "load_s": load_s, **params}, timeout=timeout)


def test_3_0_11_holds_with_a_stated_bound(images, prepared):
    r = check(short(), "3.0.11", runs=1, images=images, prepared=prepared("3.0.11"))   # runs=1: the CI budget
    print(f"\n3.0.11: {r.verdict}: {r.bound_text()}")
    assert r.expected == "held", r.expected_why
    assert r.verdict == "held", r.reason
    run = r.runs[0]
    assert all(v.startswith("ok") for v in run.preconditions.values()), run.preconditions
    crashes, seconds = r.exposure()
    assert crashes == 0 and seconds >= 30, (crashes, seconds)
    assert r.reason.startswith(f"0 crashes in {seconds:.0f} s of load ("), r.reason
    assert " process_table_expire runs): rate < " in r.reason, r.reason
    assert run.notes["expire_calls_from_requeue"] > 0, run.notes     # the requeue path ran
    assert run.notes["haproxy_req_per_s"] > 0
    assert r.seconds < 60


def test_a_bug_on_that_is_not_this_bug_is_never_held(images, prepared):
    """Sensitivity control of the signature oracle on a real HAProxy: `debug dev bug` under the same load
    kills the worker with SIGILL and a FATAL line, but not this bug's: untestable, neither reproduced nor held."""
    r = check(short(load_s=20, timeout=40, inject="bug-on"), "3.0.11", runs=1, images=images,
              prepared=prepared("3.0.11"))
    assert r.verdict == "untestable", r.reason
    assert "other failure (not this bug's signature" in r.reason, r.reason
    assert "killed by SIGILL" in r.reason and 'FATAL: bug condition "one > zero"' in r.reason, r.reason
    assert "no frames __task_queue, stktable_requeue_exp" in r.reason, r.reason   # the core was read
    assert "debug_parse_cli_bug" in r.reason, r.reason


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(BAD, "reproduced"), (GOOD, "held"), (f"{INTRODUCED}^", "held")])
def test_expectation_from_ancestry(commit, verdict):
    repo = need_mirror(commit.rstrip("^"))
    (variant,) = find("sticktable-race-2.9")
    source = resolve(parse_spec(f"git:{repo}@{commit}"))
    e = expect(variant, source, source.version)
    assert e.verdict == verdict, e.why
