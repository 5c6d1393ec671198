"""Helpers for the harness's tests and the cases' own tests."""
import pytest

# The two releases Debian's archive serves upstream tarballs of: buildable on any fresh machine.
ARCHIVE_RELEASES = ["3.0.11", "2.6.12"]


def mirror_with(commit: str) -> str | None:
    """A repository from $HRT_GIT_MIRRORS that holds `commit` (tag or hash), else None."""
    from harness.gitrepo import mirrors_from_env
    for repo in mirrors_from_env():
        if repo.resolve(commit):
            return str(repo.git_dir)
    return None


def need_mirror(commit: str) -> str:
    repo = mirror_with(commit)
    if repo is None:
        pytest.skip(f"needs a git mirror holding {commit} in HRT_GIT_MIRRORS (unset or lacking it)")
    return repo
