"""Shared fixtures. Integration tests build real HAProxy releases in containers (cached across runs)."""
import glob
import os
import tempfile

import pytest

# The two releases Debian's archive serves upstream tarballs of: buildable on any fresh machine.
ARCHIVE_RELEASES = ["3.0.11", "2.6.12"]


@pytest.fixture(scope="session")
def images():
    from harness.images import ensure_images
    return ensure_images()


@pytest.fixture(scope="session")
def prepared(images):
    """SPEC -> (source, build, reason), built once per session (and cached on disk across sessions)."""
    from harness.runner import prepare
    cache = {}

    def get(spec: str, profile: str = "default"):
        if (spec, profile) not in cache:
            cache[(spec, profile)] = prepare(spec, profile, images)
        return cache[(spec, profile)]
    return get


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


@pytest.fixture(scope="session", autouse=True)
def no_work_dir_left_behind():
    """Every HAProxy work dir this test process made (/tmp/hrt-<pid>-*) is gone when the session ends:
    evidence moved into results, or removed."""
    yield
    left = glob.glob(os.path.join(tempfile.gettempdir(), f"hrt-{os.getpid()}-*"))
    assert not left, f"HAProxy work dirs left behind: {left}"
