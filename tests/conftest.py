"""Until every test imports tests.support directly (fixtures: the root conftest.py)."""
from tests.support import ARCHIVE_RELEASES, mirror_with, need_mirror  # noqa: F401
