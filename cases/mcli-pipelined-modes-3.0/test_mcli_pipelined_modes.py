"""mcli-pipelined-modes-3.0 against real builds: both variants hold on 3.0.11; with a mirror, 3.0.4
answers nothing after the mode command and 3.0.5 answers."""
import pytest

from harness.case import find
from harness.runner import check
from tests.support import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]


@pytest.mark.parametrize("variant", ["recipe", "no-mode"])
def test_3_0_11_answers(variant, images, prepared):
    (v,) = find(f"mcli-pipelined-modes-3.0/{variant}")
    r = check(v, "3.0.11", images=images, prepared=prepared("3.0.11"))
    assert r.verdict == "held", r.reason
    assert all(run.preconditions and all(s.startswith("ok") for s in run.preconditions.values()) for run in r.runs)


@pytest.mark.mirror
@pytest.mark.parametrize("release,verdict", [("3.0.4", "reproduced"), ("3.0.5", "held")])
def test_release_pair(release, verdict, images):
    need_mirror(f"v{release}")
    (v,) = find("mcli-pipelined-modes-3.0/recipe")
    r = check(v, release, runs=1, images=images)
    assert (r.expected, r.verdict) == (verdict, verdict), r.reason
    if verdict == "reproduced":
        answers = next(f for f in r.runs[0].findings if f["oracle"] == "answers")
        assert answers["fired"] and not next(f for f in r.runs[0].findings if f["oracle"] == "crash")["fired"]
