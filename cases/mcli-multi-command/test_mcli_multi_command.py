"""mcli-multi-command (haproxy#2656 companion): every command answers on 3.0.11 and 2.6.12, the answers
oracle fires on missing answers without the bug; with a mirror, the mainline pair separates."""
import time

import pytest

from harness.case import find
from harness.runner import check, prepare, run_once
from tests.support import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]

MCLI_BAD, MCLI_GOOD = "76fa71f7a8d27006ea1b06b417963501d3a5fcab", "d4781bd5e7f0e0c0491fb7dfccb4da5c15055e3f"


@pytest.mark.parametrize("spec", ["3.0.11", "2.6.12"])
@pytest.mark.parametrize("mode", ["line", "prompt"])
def test_mcli_every_command_answers(spec, mode, images, prepared):
    (variant,) = find(f"mcli-multi-command/{mode}")
    r = check(variant, spec, runs=1, images=images, prepared=prepared(spec))
    assert r.verdict == "held", r.reason
    answers = next(f for f in r.runs[0].findings if f["oracle"] == "answers")
    assert not answers["details"]["missing"] and answers["details"]["exchanges"] >= 3


def test_answers_oracle_fires_on_missing_answers_without_the_bug(images, prepared):
    """Control on a build without the mcli bug: `@9 show info` (there is no worker 9) answers nothing,
    so the answers oracle must fire, and nothing crashed."""
    _, b, why = prepared("3.0.11")
    assert b, why
    (variant,) = find("mcli-multi-command/line")
    out = run_once(variant, b, images, "3.0.11", 1, {"sessions": [["@1 show info", "@9 show info"]]})
    assert out.verdict == "reproduced", out.reason
    answers = next(f for f in out.findings if f["oracle"] == "answers")
    assert answers["details"]["missing"] == {"session 1: @1 show info; @9 show info": {r"^Name: HAProxy\s*$": "1/2"}}
    assert not next(f for f in out.findings if f["oracle"] == "crash")["fired"]


@pytest.mark.mirror
def test_answers_oracle_fires_on_the_pipelined_modes_limit_of_3_0_4(images):
    """Control with a real limitation, not this bug: `@1; expert-mode on; show info; show version`
    answers nothing on 3.0.4 (a948603e9, fixed in 3.0.5); the mcli case itself never uses that form."""
    need_mirror("v3.0.4")
    (variant,) = find("mcli-multi-command/line")
    _, b, why = prepare("3.0.4", "default", images)
    assert b, why
    pipelined = [["@1", "expert-mode on", "show info", "show version"]]
    out = run_once(variant, b, images, "3.0.4", 1, {"sessions": pipelined})
    assert out.verdict == "reproduced", out.reason
    assert not next(f for f in out.findings if f["oracle"] == "crash")["fired"]


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(MCLI_BAD, "reproduced"), (MCLI_GOOD, "held")])
def test_mcli_mainline_pair(commit, verdict, images):
    repo = need_mirror(commit)
    for variant in find("mcli-multi-command"):
        t0 = time.monotonic()
        r = check(variant, f"git:{repo}@{commit[:9]}", runs=1, images=images)
        assert r.expected == verdict, r.expected_why
        assert r.verdict == verdict, (variant.id, r.reason)
        assert time.monotonic() - t0 < 60
