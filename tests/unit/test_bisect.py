"""Bisect without builds: the direction from both ends, terms, variant choice, the report, and that an
interrupted or overrunning `git bisect run` leaves no process of its group behind."""
import os
import subprocess
import time

import psutil
import pytest

from harness import bisect as bisect_mod
from harness.case import find
from harness.errors import CaseError, HrtError


def rec(verdict, unreached=False, runs=1, commit="a" * 40, **kw):
    return {"commit": commit, "verdict": verdict, "runs": runs, "reproduced_runs": int(verdict == "reproduced"),
            "build": "cached", "build_s": 1.0, "make_s": 0.0, "ccache": "", "run_s": 2.0, "load": 0.5,
            "unreached": unreached,
            "reason": "trigger not reached: x" if unreached else "why", **kw}


@pytest.fixture
def repo(tmp_path):
    d = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(d)], check=True)
    for i in range(3):
        (d / "f").write_text(str(i))
        subprocess.run(["git", "-C", str(d), "add", "f"], check=True)
        subprocess.run(["git", "-C", str(d), "-c", "user.email=a@b", "-c", "user.name=t", "commit", "-qm", f"c{i}"],
                       check=True)
    return d


@pytest.mark.parametrize("ends", [("held", "held"), ("reproduced", "reproduced"), ("untestable", "held"),
                                  ("held", "untestable")])
def test_nothing_to_bisect(repo, monkeypatch, ends):
    records = iter([rec(v) for v in ends])
    monkeypatch.setattr(bisect_mod, "check_commit", lambda *a: next(records))
    with pytest.raises(HrtError, match="nothing to bisect"):
        bisect_mod.bisect("tcp-leak-2.8", str(repo), "HEAD~2", "HEAD")


def test_unreached_from_end_names_the_option(repo, monkeypatch):
    records = iter([rec("untestable", unreached=True), rec("reproduced")])
    monkeypatch.setattr(bisect_mod, "check_commit", lambda *a: next(records))
    with pytest.raises(HrtError, match="--unreached-is-clean"):
        bisect_mod.bisect("tcp-leak-2.8", str(repo), "HEAD~2", "HEAD")


def test_from_must_be_an_ancestor(repo):
    with pytest.raises(HrtError, match="not an ancestor"):
        bisect_mod.bisect("tcp-leak-2.8", str(repo), "HEAD", "HEAD~2")


@pytest.mark.parametrize("verdict,unreached,direction,opt,term", [
    ("reproduced", False, "fix", False, "broken"),
    ("held", False, "fix", False, "fixed"),
    ("reproduced", False, "introduction", False, "broken"),
    ("held", False, "introduction", False, "clean"),
    ("untestable", False, "introduction", True, "skip"),      # a failed build is never clean
    ("untestable", True, "introduction", False, "skip"),      # only when asked
    ("untestable", True, "introduction", True, "clean"),
    ("untestable", True, "fix", True, "skip"),                # a fix must be seen to hold
])
def test_terms(verdict, unreached, direction, opt, term):
    assert bisect_mod.term_of(rec(verdict, unreached), direction, opt) == term


def test_variant_choice():
    assert bisect_mod.pick_variant("tcp-leak-2.8").id == "tcp-leak-2.8/recipe"   # its other variant is a control
    assert bisect_mod.pick_variant("lua-filter-2.9/mixed-load").name == "mixed-load"
    with pytest.raises(CaseError, match="shared-state or lua-filter-2.9/mixed-load"):
        bisect_mod.pick_variant("lua-filter-2.9")


def test_report_states_steps_skips_and_uncertainty():
    steps = [rec("held", commit="1" * 40, term="clean"), rec("reproduced", commit="2" * 40, term="broken"),
             rec("untestable", commit="3" * 40, term="skip", build="failed"),
             rec("untestable", unreached=True, commit="4" * 40, term="clean")]
    r = bisect_mod.BisectResult(find("lua-filter-2.9/mixed-load")[0], "introduction", 6, "2" * 40, "MEDIUM: x",
                                steps=steps)
    text = r.report()
    assert text.splitlines()[0] == f"introduced by {'2' * 12} MEDIUM: x"
    assert "4 commits checked over a window of 6 (bound ceil(log2 6)+2 = 5)" in text
    assert f"skipped 1: {'3' * 12}" in text
    assert f"trigger not reached (--unreached-is-clean): {'4' * 12}" in text
    assert "WARNING: lua-filter-2.9 is probabilistic" in text and "later than the truth" in text
    undecided = bisect_mod.BisectResult(r.variant, "fix", 6, None, "", [("5" * 40, "a"), ("6" * 40, "b")], steps)
    assert undecided.report().startswith("undecided: fixed by one of 2 commits")
    assert "earlier than the truth" in undecided.report()


def _group_alive(pgid):
    return [p for p in psutil.process_iter(["status"]) if p.info["status"] != psutil.STATUS_ZOMBIE
            and _pgid(p.pid) == pgid]


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_overrun_stops_the_whole_group(monkeypatch, tmp_path):
    """The step's grandchildren go too, after their SIGTERM (a trap records it), not only git."""
    monkeypatch.setattr(bisect_mod, "remove_leftovers", lambda: 0)
    seen = []
    real = subprocess.Popen

    def popen(*a, **kw):
        seen.append(real(*a, **kw))
        return seen[-1]
    monkeypatch.setattr(bisect_mod.subprocess, "Popen", popen)
    mark = tmp_path / "term"
    script = f"trap 'echo term > {mark}; exit 0' TERM; sh -c 'sleep 60' & while :; do sleep 0.1; done"
    started = time.monotonic()
    with pytest.raises(HrtError, match="exceeded 1s"):
        bisect_mod._run_group(["sh", "-c", script], str(tmp_path), timeout=1)
    assert time.monotonic() - started < 30
    assert mark.read_text().strip() == "term"
    assert not _group_alive(seen[0].pid)
