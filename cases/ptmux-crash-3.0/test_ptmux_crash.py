"""ptmux-crash-3.0 (haproxy#2656, crash b): the TLS churn flows on both sides and holds on 3.0.11."""
import pytest

from harness.case import find
from harness.runner import run_once

pytestmark = [pytest.mark.docker, pytest.mark.case]


def test_ptmux_churn_holds_on_3_0_11(images, prepared):
    """A short churn (the case's own runs are 60 s each): TLS flows on both sides, no crash."""
    _, b, why = prepared("3.0.11")
    assert b, why
    (variant,) = find("ptmux-crash-3.0")
    out = run_once(variant, b, images, "3.0.11", 1, {"churn_s": 20, "min_connections": 300})
    assert out.verdict == "held", out.reason
    assert all(v.startswith("ok") for v in out.preconditions.values()), out.preconditions
    churn = out.notes["churn"]
    assert churn["cli_tls"] > 300 and churn["srv_tls"] > 300 and out.notes["haproxy_survived"]
