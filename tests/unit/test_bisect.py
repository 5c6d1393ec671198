"""Bisect end checks: the direction comes from both ends; nothing to bisect is a clear error."""
import subprocess

import pytest

from harness import bisect as bisect_mod
from harness.errors import HrtError


class R:
    def __init__(self, verdict):
        self.verdict, self.reason, self.runs, self.reproduced_runs = verdict, "", [1], int(verdict == "reproduced")


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


@pytest.mark.parametrize("ends", [("held", "held"), ("reproduced", "reproduced"), ("untestable", "held")])
def test_nothing_to_bisect(repo, monkeypatch, ends):
    verdicts = iter(ends)
    monkeypatch.setattr(bisect_mod, "_verdict", lambda *a: R(next(verdicts)))
    with pytest.raises(HrtError, match="nothing to bisect"):
        bisect_mod.bisect("x/y", str(repo), "HEAD~2", "HEAD")


def test_from_must_be_an_ancestor(repo):
    with pytest.raises(HrtError, match="not an ancestor"):
        bisect_mod.bisect("x/y", str(repo), "HEAD", "HEAD~2")
