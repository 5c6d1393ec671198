"""quic-uaf-2.9 (haproxy#2494) against real QUIC builds (`quic` profile: OpenSSL 3.0 + compat layer).

In CI (Debian's archive has 3.0.11): the QUIC client completes HTTP/3 requests through HAProxy 3.0.11;
the case holds on 3.0.11 with the trigger reached on every connection; the ACKing-client control makes
a run untestable ("trigger not reached"), never held. With a mirror: 2.9.6 reproduced / 2.9.7 held,
and the tightest 2.9 pair (the backport alone) separates.
"""
import pytest

from harness.case import find
from harness.instance import HAProxyInstance, socket_paths
from harness.runner import check, run_once
from harness.templates import render
from harness.traffic.quic import H3Client, h3_get
from tests.support import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]
CASE = "quic-uaf-2.9"
BAD_29, GOOD_29 = "f658d5c369d770fc87f15a758a5ae515893554ea", "19c922df4ea4c747f905614b4f30ec04d8ebb4d3"


def variant(name: str = "close"):
    (v,) = find(f"{CASE}/{name}")
    return v


def quic_build(prepared, spec):
    _, b, why = prepared(spec, "quic")
    assert b is not None, why
    assert b.features.has("quic"), b.features.flags
    return b


def trigger_reached(run) -> bool:
    return all(v.startswith("ok") for v in run.preconditions.values())


def test_h3_requests_through_haproxy_3011(images, prepared, tmp_path):
    """The client's normal path against a real HAProxy: handshake (compat layer), GETs, many streams."""
    b = quic_build(prepared, "3.0.11")
    v = variant()
    config = render(v.case.template, {**v.params, **socket_paths(), "version": b.features.branch})
    files = {n: (v.case.path / n).read_text() for n in v.case.files}
    port = int(v.params["port"])
    h = HAProxyInstance(b, images, config, "quic-h3-get", files=files)
    try:
        h.start()
        r = h3_get(h.netns, port, "/big")
        assert (r.status, len(r.body), r.ended) == (200, 8000, True)
        assert r.body == (v.case.path / "body-8000.txt").read_bytes()
        with H3Client(h.netns, port) as c:
            c.connect(5)
            assert c.get("/", 5).body == b"hrt ok"
            rs = c.wait_responses(c.open_streams(16, "/big"), 10)   # acked normally: all complete
            assert all(x.status == 200 and len(x.body) == 8000 for x in rs)
            c.close()
        assert h.running()
    finally:
        h.stop()
        h.keep_evidence(tmp_path)


def test_holds_on_3011(images, prepared):
    """Measured: 3.0.11 (quic) held in every run, all preconditions met on every connection."""
    r = check(variant(), "3.0.11", runs=3, images=images, prepared=prepared("3.0.11", "quic"))
    assert r.expected == "held", r.expected_why
    assert r.verdict == "held", r.reason
    assert r.reproduced_runs == 0 and len(r.runs) == 3
    for run in r.runs:
        assert trigger_reached(run), run.preconditions
        assert run.notes["connections"] == ["alive"] * variant().params["connections"]


def test_acking_client_is_trigger_not_reached(images, prepared):
    """Sensitivity control: a client that keeps ACKing also hits the buffer limit for a moment, but the
    buffers are free again at the close: the run must be untestable, never held."""
    b = quic_build(prepared, "3.0.11")
    out = run_once(variant(), b, images, "3.0.11", 1, params_override={"deaf": False, "connections": 2})
    assert out.verdict == "untestable", out.reason
    assert "trigger not reached" in out.reason and "Tx buffers still exhausted" in out.reason


@pytest.mark.mirror
@pytest.mark.parametrize("release,verdict", [("2.9.6", "reproduced"), ("2.9.7", "held")])
def test_release_pair(release, verdict, images):
    need_mirror(f"v{release}")
    r = check(variant(), release, runs=3, profile="quic", images=images)
    assert r.expected == verdict, r.expected_why
    assert r.verdict == verdict, r.reason
    if verdict == "reproduced":
        assert r.reproduced_runs == 3
        sig = r.runs[0].findings[0]["details"]["signature"]
        assert "qcs_free" in sig and "qc_stream_desc_release" in sig, sig
    else:
        assert all(trigger_reached(run) for run in r.runs)


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(BAD_29, "reproduced"), (GOOD_29, "held")])
def test_tightest_29_pair(commit, verdict, images):
    """v2.9.6-68 vs v2.9.6-69: the diff is the backport of bd384a359 alone."""
    repo = need_mirror(commit)
    r = check(variant(), f"git:{repo}@{commit[:9]}", runs=2, profile="quic", images=images)
    assert r.expected == verdict, r.expected_why        # from ancestry of fix_commits
    assert r.verdict == verdict, r.reason


@pytest.mark.mirror
@pytest.mark.parametrize("ref,truth", [
    ("v2.9.3", "held"),          # before the buffer trim's 2.9 backport (measured held)
    ("v2.8.5", "held"),
    (BAD_29, "reproduced"),
    ("a13989f10", "reproduced"),  # mainline between the trim and the Tx buffer refactoring
    (GOOD_29, "held"),
])
def test_commit_expectations(ref, truth):
    """The expectation from ancestry (fix_commits, introduced_by with its backports) matches the table."""
    from harness.expectation import expect
    from harness.sources import resolve
    from harness.spec import parse_spec
    repo = need_mirror(ref)
    assert expect(variant(), resolve(parse_spec(f"git:{repo}@{ref}")), "").verdict == truth
