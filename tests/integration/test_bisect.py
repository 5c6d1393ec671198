"""`hrt bisect` on real builds: finds the fixing commit of tcp-leak-2.8 in a short mainline range."""
import subprocess
import sys

import pytest

from tests.conftest import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.mirror]
FIX = "fbc3de6e9e59679d2e9ece3984ce31b6a7dd418f"
FROM = "ddb829bb5"   # three commits before the fix: two steps


def test_bisect_finds_the_fix():
    repo = need_mirror(FROM)
    before = subprocess.run(["git", "-C", repo, "worktree", "list"], capture_output=True, text=True).stdout
    p = subprocess.run([sys.executable, "-m", "harness.cli", "bisect", "tcp-leak-2.8/recipe", "--repo", repo,
                        "--from", FROM, "--to", FIX[:9]], capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr[-3000:]
    first = p.stdout.splitlines()[0]
    assert first.startswith(f"fixed by {FIX[:12]}"), p.stdout
    assert "reproduced" in p.stdout and "held" in p.stdout          # the runs behind each answer
    # the user's repository is untouched: no worktree, no bisect state left behind
    assert subprocess.run(["git", "-C", repo, "worktree", "list"], capture_output=True, text=True).stdout == before
    assert subprocess.run(["git", "-C", repo, "bisect", "log"], capture_output=True).returncode != 0
