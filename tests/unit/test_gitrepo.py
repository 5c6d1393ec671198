import tarfile

import pytest

from harness.errors import SourceUnavailable
from harness.gitrepo import GitRepo, mirrors_from_env


@pytest.fixture
def repo(make_repo):
    r = make_repo()
    r.first = r.commit("one", Makefile="a\n")
    r.tag("v3.0.0")
    r.second = r.commit("two", Makefile="b\n")
    return r


def test_resolve(repo):
    g = GitRepo(str(repo.path))
    assert g.resolve("HEAD") == repo.second
    assert g.resolve("v3.0.0") == repo.first
    assert g.resolve(repo.second[:10]) == repo.second
    assert g.resolve("HEAD^") == repo.first
    assert g.resolve("v9.9.9") is None
    assert g.resolve("no such ref") is None


def test_is_ancestor(repo):
    g = GitRepo(str(repo.path))
    assert g.is_ancestor(repo.first, repo.second) is True
    assert g.is_ancestor(repo.second, repo.first) is False
    assert g.is_ancestor(repo.first, repo.first) is True
    assert g.is_ancestor("0123456789abcdef0123456789abcdef01234567", repo.second) is None


def test_describe(repo):
    g = GitRepo(str(repo.path))
    assert g.describe(repo.first) == "v3.0.0"
    assert g.describe(repo.second).startswith("v3.0.0-1-g")


def test_archive_once(repo, tmp_path):
    g = GitRepo(str(repo.path))
    dest = tmp_path / "out.tar.gz"
    assert g.archive(repo.first, dest) == dest
    with tarfile.open(dest) as tf:
        names = tf.getnames()
        assert f"haproxy-{repo.first[:12]}/Makefile" in names
        assert tf.extractfile(f"haproxy-{repo.first[:12]}/Makefile").read() == b"a\n"
    mtime = dest.stat().st_mtime_ns
    g.archive(repo.first, dest)          # cached: not rewritten
    assert dest.stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob("out.tmp*"))


def test_missing_local_repository(tmp_path):
    with pytest.raises(SourceUnavailable, match="does not exist"):
        GitRepo(str(tmp_path / "nope"))


def test_url_is_mirrored_into_the_cache(repo, tmp_path):
    url = f"file://{repo.path}"
    g = GitRepo(url)
    assert str(g.git_dir).startswith(str(tmp_path / "cache" / "git"))
    assert g.resolve("v3.0.0") == repo.first
    new = repo.commit("three")
    g2 = GitRepo(url)                    # same mirror, fetched again
    assert g2.git_dir == g.git_dir
    assert g2.resolve(new) == new


def test_unreachable_url(tmp_path):
    with pytest.raises(SourceUnavailable, match="cannot mirror"):
        GitRepo(f"file://{tmp_path}/no-such-repo.git")


def test_mirrors_from_env(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HRT_GIT_MIRRORS", f"{tmp_path / 'missing'}::~/repo:{repo.path}")
    mirrors = mirrors_from_env()
    assert [str(m.git_dir) for m in mirrors] == [str(repo.path), str(repo.path)]


def test_no_mirrors(monkeypatch):
    monkeypatch.delenv("HRT_GIT_MIRRORS", raising=False)
    assert mirrors_from_env() == []
