from pathlib import Path

import pytest

from harness.case import Case, OracleSpec, Variant
from harness.expectation import UNKNOWN, expect, for_commit, for_release
from harness.spec import release_of
from harness.gitrepo import GitRepo
from harness.sources import Source
from harness.spec import Spec

BRANCHES = {"2.8": {"affected_from": "2.8.0", "fixed_in": "2.8.13"}, "2.6": {"status": "not-affected"}}


def variant(branches=None, fix_commits=(), introduced_by="", expect_=""):
    case = Case(id="c", path=Path("/nonexistent"), title="t", template="t.cfg.j2",
                scenario_path=Path("/nonexistent/scenario.py"), requires=(), probabilistic=False,
                fix_commits=tuple(fix_commits), introduced_by=(),
                branches=BRANCHES if branches is None else branches)
    intro = (introduced_by,) if isinstance(introduced_by, str) and introduced_by else tuple(introduced_by)
    return Variant(case, "", {}, expect_, (OracleSpec("crash", True, {}),), 1, 60.0, (), "default",
                   tuple(fix_commits), intro, case.branches)


@pytest.mark.parametrize("version,verdict", [
    ("2.8.12", "reproduced"),
    ("2.8.0", "reproduced"),
    ("2.8.13", "held"),
    ("2.8.20", "held"),
    ("2.6.12", "held"),
    ("3.0.1", UNKNOWN),
])
def test_for_release(version, verdict):
    e = for_release(variant(), version)
    assert e.verdict == verdict, e.why
    assert e.why


def test_for_release_before_affected_from():
    v = variant({"3.0": {"affected_from": "3.0.5", "fixed_in": "3.0.9"}})
    assert for_release(v, "3.0.4").verdict == "held"
    assert "3.0.5" in for_release(v, "3.0.4").why
    assert for_release(v, "3.0.5").verdict == "reproduced"
    assert for_release(v, "3.0.8").verdict == "reproduced"
    assert for_release(v, "3.0.9").verdict == "held"


def test_for_release_no_fix_yet():
    v = variant({"3.2": {"affected_from": "3.2.0"}})
    e = for_release(v, "3.2.7")
    assert e.verdict == "reproduced" and "no fix yet" in e.why


def test_for_release_numeric_not_lexical():
    v = variant({"2.8": {"fixed_in": "2.8.9"}})
    assert for_release(v, "2.8.13").verdict == "held"    # 13 > 9
    assert for_release(v, "2.8.10").verdict == "held"
    assert for_release(v, "2.8.8").verdict == "reproduced"


def test_unknown_branch_says_so():
    e = for_release(variant(), "3.0.1")
    assert "3.0" in e.why and "not measured" in e.why


@pytest.mark.parametrize("version,release", [
    ("3.0.11", "3.0.11"), ("3.0.11-9e587df", "3.0.11"), ("2.6.12-f588462", "2.6.12"),
    ("2.8.5-1234567-12", "2.8.5"), ("3.1-dev10-7a02fc-64", None), ("3.0", None), ("unknown", None),
])
def test_release_of(version, release):
    assert release_of(version) == release


# ---- git ancestry -------------------------------------------------------------------------------

@pytest.fixture
def history(make_repo):
    """A -> B (the fix) -> C on master, D on a side branch from A; I introduced the bug before A."""
    repo = make_repo()
    i = repo.commit("introduce", **{"a.c": "bug\n"})
    a = repo.commit("A", **{"b.c": "1\n"})
    b = repo.commit("B fix", **{"a.c": "fixed\n"})
    c = repo.commit("C", **{"c.c": "1\n"})
    repo.git("checkout", "-q", "-b", "side", a)
    d = repo.commit("D", **{"d.c": "1\n"})
    return repo, dict(I=i, A=a, B=b, C=c, D=d)


def git_src(repo, commit):
    return Source(Spec("git", str(repo.path), commit, f"git:{repo.path}@{commit}"), f"git:{commit}",
                  "v-test", f"{repo.path}@{commit}", commit=commit, repo=GitRepo(str(repo.path)))


def test_for_commit_fix_ancestry(history):
    repo, c = history
    v = variant(fix_commits=[c["B"]])
    assert for_commit(v, git_src(repo, c["A"])).verdict == "reproduced"
    assert for_commit(v, git_src(repo, c["B"])).verdict == "held"
    assert for_commit(v, git_src(repo, c["C"])).verdict == "held"
    assert for_commit(v, git_src(repo, c["D"])).verdict == "reproduced"   # side branch lacks the fix


def test_for_commit_any_of_several_fixes(history):
    repo, c = history
    v = variant(fix_commits=[c["D"], c["B"]])   # the fix and its backport
    assert for_commit(v, git_src(repo, c["C"])).verdict == "held"
    assert for_commit(v, git_src(repo, c["D"])).verdict == "held"
    assert for_commit(v, git_src(repo, c["A"])).verdict == "reproduced"


def test_for_commit_introducing_commit(history):
    repo, c = history
    v = variant(fix_commits=[c["B"]], introduced_by=c["A"])
    assert for_commit(v, git_src(repo, c["I"])).verdict == "held"       # predates the bug
    assert for_commit(v, git_src(repo, c["A"])).verdict == "reproduced"
    assert for_commit(v, git_src(repo, c["C"])).verdict == "held"


def test_for_commit_introduced_on_several_branches(history):
    """An introduction cherry-picked to a stable branch: any known one that is an ancestor counts;
    ids the repository does not know are passed over."""
    repo, c = history
    v = variant(fix_commits=[c["B"]], introduced_by=["0123456789abcdef0123456789abcdef01234567", c["A"]])
    assert for_commit(v, git_src(repo, c["I"])).verdict == "held"
    e = for_commit(v, git_src(repo, c["A"]))
    assert e.verdict == "reproduced" and c["A"][:12] in e.why


def test_for_commit_unknown_fix_commit(history):
    repo, c = history
    v = variant(fix_commits=["fbc3de6e9e59679d2e9ece3984ce31b6a7dd418f"])
    e = for_commit(v, git_src(repo, c["A"]))
    assert e.verdict == UNKNOWN and "fbc3de6e9e59" in e.why


def test_for_commit_fix_from_another_repository_is_not_contained(history):
    """A backport's hash lives in the stable repo only: a mainline commit cannot contain it."""
    repo, c = history
    v = variant(fix_commits=["fbc3de6e9e59679d2e9ece3984ce31b6a7dd418f", c["B"]])
    assert for_commit(v, git_src(repo, c["A"])).verdict == "reproduced"
    assert for_commit(v, git_src(repo, c["C"])).verdict == "held"


def test_for_commit_unknown_introducing_commit(history):
    repo, c = history
    v = variant(fix_commits=[c["B"]], introduced_by="0123456789abcdef0123456789abcdef01234567")
    assert for_commit(v, git_src(repo, c["A"])).verdict == UNKNOWN


def test_for_commit_without_commits(history):
    repo, c = history
    assert for_commit(variant(), git_src(repo, c["A"])).verdict == UNKNOWN


# ---- expect(): the dispatcher --------------------------------------------------------------------

def test_expect_constant_from_variant():
    src = Source(Spec("release", "2.6.12", text="2.6.12"), "sha256:x", "2.6.12", "cache")
    e = expect(variant(expect_="reproduced"), src, "2.6.12-f588462")
    assert e.verdict == "reproduced"   # 2.6 is "not-affected", but the variant fixes its own expectation
    assert expect(variant(expect_="held"), src, "2.6.12").verdict == "held"


def test_expect_release():
    src = Source(Spec("release", "2.8.12", text="2.8"), "sha256:x", "2.8.12", "cache")
    assert expect(variant(), src, "2.8.12-abcdef0").verdict == "reproduced"


def test_expect_tarball_uses_built_version():
    src = Source(Spec("tar", "/x.tar.gz", text="tar:/x.tar.gz"), "sha256:x", "2.8.13", "/x.tar.gz")
    assert expect(variant(), src, "2.8.13-0a1b2c3").verdict == "held"


def test_expect_dev_build_without_commit_is_unknown():
    src = Source(Spec("bin", "/haproxy", text="bin:/haproxy"), "sha256:x", "unknown", "/haproxy")
    assert expect(variant(), src, "3.1-dev10-7a02fc-64").verdict == UNKNOWN


def test_expect_git_uses_ancestry(history):
    repo, c = history
    v = variant(branches={"2.8": {"fixed_in": "2.8.1"}}, fix_commits=[c["B"]])
    assert expect(v, git_src(repo, c["A"]), "2.8.5-0a1b2c3").verdict == "reproduced"
    assert expect(v, git_src(repo, c["C"]), "2.8.0-0a1b2c3").verdict == "held"


def test_untestable_on_purpose_releases_and_branches():
    v = variant({"2.8": {"fixed_in": "2.8.8", "untestable": ["2.8.8"], "evidence": "2.8.8 does not link"},
                 "2.9": {"status": "untestable", "evidence": "the wait state does not exist"}})
    e = for_release(v, "2.8.8")
    assert e.verdict == "untestable" and "2.8.8 does not link" in e.why
    assert for_release(v, "2.8.9").verdict == "held" and for_release(v, "2.8.7").verdict == "reproduced"
    e = for_release(v, "2.9.6")
    assert e.verdict == "untestable" and "branch 2.9" in e.why and "wait state" in e.why


def test_a_control_does_not_apply_where_its_branch_says_untestable():
    v = variant({"2.6": {"status": "untestable", "evidence": "2.6 closes the tunnels itself"}}, expect_="reproduced")
    src = Source(Spec("release", "2.6.12", text="2.6.12"), "sha256:x", "2.6.12", "x")
    e = expect(v, src, "2.6.12-f588462")
    assert e.verdict == "untestable" and "closes the tunnels" in e.why
    assert expect(v, Source(Spec("release", "3.0.11", text="3.0.11"), "x", "3.0.11", "x"), "3.0.11").verdict == \
        "reproduced"
