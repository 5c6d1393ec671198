"""Shared fixtures for the harness's tests (tests/) and each case's own tests (cases/<id>/test_*.py):
real HAProxy releases built in containers (cached on disk across sessions)."""
import glob
import os
import tempfile

import pytest


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


@pytest.fixture(scope="session", autouse=True)
def no_work_dir_left_behind():
    """Every HAProxy work dir this test process made (/tmp/hrt-<pid>-*) is gone when the session ends:
    evidence moved into results, or removed."""
    yield
    left = glob.glob(os.path.join(tempfile.gettempdir(), f"hrt-{os.getpid()}-*"))
    assert not left, f"HAProxy work dirs left behind: {left}"
