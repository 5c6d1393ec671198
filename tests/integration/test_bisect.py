"""`hrt bisect` on real builds.

Without mirrors (CI): a synthetic repository made at test time from the 3.0.11 tarball (cache,
haproxy.org or Debian's archive, verified as usual) with three commits on top: c1 takes out the 3.0
backport of tcp-leak-2.8's fix (f55508ab6, two blocked-send reports in src/stconn.c), c2 breaks the
build, c3 repairs it. From c0 (held) to c3 (reproduced) git bisect tests c2 first (build fails: skip),
then c1 (reproduced): 4 builds, ccache making all but the first cheap, and the real oracle decides.
With the mainline mirror: the fixing commit fbc3de6e9 in a short range.
"""
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.support import need_mirror

pytestmark = [pytest.mark.docker]
FIX = "fbc3de6e9e59679d2e9ece3984ce31b6a7dd418f"
FROM = "ddb829bb5"   # three commits before the fix: two steps
# f55508ab6 added these after the error checks of sc_conn_send() and sc_applet_send()
BLOCKED_SEND_REPORT = re.compile(r"\n\t\tif \(co_data\(oc\)[^\n]*\)\n\t\t\tsc_ep_report_blocked_send\(sc, 0\);")


def hrt(*args, env=None, timeout=1800):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def offline_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "HRT_GIT_MIRRORS"}
    return {**env, **extra}


def _commit(repo, message):
    git = ["git", "-C", str(repo), "-c", "user.email=hrt@test", "-c", "user.name=hrt"]
    subprocess.run([*git, "add", "-A", "-f"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", message], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """(repo, [c0, c1, c2, c3]) — c1 is the commit that brings the tcp leak back."""
    from harness.sources import resolve
    from harness.spec import parse_spec
    saved = os.environ.pop("HRT_GIT_MIRRORS", None)
    try:
        source = resolve(parse_spec("3.0.11"))
    finally:
        if saved is not None:
            os.environ["HRT_GIT_MIRRORS"] = saved
    root = tmp_path_factory.mktemp("synthetic")
    subprocess.run(["tar", "-xzf", str(source.tarball), "-C", str(root)], check=True, timeout=300)
    repo = root / "haproxy-3.0.11"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    commits = [_commit(repo, "haproxy 3.0.11 as released")]
    stconn = repo / "src" / "stconn.c"
    text, n = BLOCKED_SEND_REPORT.subn("", stconn.read_text())
    assert n == 2, "3.0.11's src/stconn.c no longer has f55508ab6's two blocked-send reports"
    stconn.write_text(text)
    commits.append(_commit(repo, "BUG/SYNTHETIC: stconn: no blocked send reported after an error"))
    version = repo / "src" / "version.c"
    good = version.read_text()
    version.write_text(good + "\n#error synthetic build break\n")
    commits.append(_commit(repo, "BUILD/SYNTHETIC: break the build"))
    version.write_text(good)
    commits.append(_commit(repo, "BUILD/SYNTHETIC: repair the build"))
    return repo, commits


def test_bisect_synthetic_introduction(synthetic):
    repo, (c0, c1, c2, c3) = synthetic
    p = hrt("bisect", "tcp-leak-2.8", "--repo", str(repo), "--from", c0, "--to", c3, env=offline_env())
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    lines = p.stdout.splitlines()
    assert lines[0] == f"introduced by {c1[:12]} BUG/SYNTHETIC: stconn: no blocked send reported after an error"
    assert "4 commits checked over a window of 3" in p.stdout
    rows = {line.split()[0]: line.split() for line in lines if re.match(r"  [0-9a-f]{12} ", line)}
    assert rows[c0[:12]][1] == "from" and rows[c3[:12]][1] == "to"
    assert rows[c2[:12]][2] == "failed" and rows[c2[:12]][-2] == "skip"
    assert rows[c1[:12]][-3:-1] == ["reproduced", "broken"] and rows[c0[:12]][-3:-1] == ["held", "clean"]
    assert f"skipped 1: {c2[:12]}" in p.stdout
    # the repository is untouched: no bisect state, nothing checked out differently
    assert subprocess.run(["git", "-C", str(repo), "bisect", "log"], capture_output=True).returncode != 0
    assert subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True,
                          text=True).stdout == ""


def _hrt_containers():
    from harness.dockerenv import LABEL, OWNER, client
    return {c.id: (c.attrs.get("Labels") or {}).get(OWNER) for c in client().containers.list(
        all=True, sparse=True, filters={"label": LABEL})}


def test_bisect_interrupted_leaves_nothing(synthetic, tmp_path):
    """Ctrl-C while a `git bisect run` step has a container: the step's containers, processes, the
    private clone and its bisect state all go; the ends and builds are cached by the test above."""
    repo, (c0, _, _, c3) = synthetic
    p = subprocess.Popen([sys.executable, "-m", "harness.cli", "bisect", "tcp-leak-2.8", "--repo", str(repo),
                          "--from", c0, "--to", c3], env=offline_env(TMPDIR=str(tmp_path)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    family, deadline = set(), time.monotonic() + 600
    try:
        while time.monotonic() < deadline and p.poll() is None:
            family |= {c.pid for c in psutil.Process(p.pid).children(recursive=True)}
            if any(owner and int(owner) in family for owner in _hrt_containers().values()):
                break   # a step (not the end checks) is building or running
            time.sleep(0.3)
        else:
            pytest.fail(f"no step container appeared (exit {p.poll()}): {p.stderr.read()[-2000:] if p.poll() else ''}")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=180)
    finally:
        if p.poll() is None:   # a failed assertion above: still interrupt it properly
            p.send_signal(signal.SIGINT)
            p.wait(180)
    assert p.returncode == 130, err[-3000:]
    assert not [o for o in _hrt_containers().values() if o and int(o) in family | {p.pid}]
    assert not [pid for pid in family if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not list(tmp_path.glob("hrt-bisect-*"))
    assert subprocess.run(["git", "-C", str(repo), "bisect", "log"], capture_output=True).returncode != 0


@pytest.mark.mirror
def test_bisect_finds_the_fix():
    repo = need_mirror(FROM)
    before = subprocess.run(["git", "-C", repo, "worktree", "list"], capture_output=True, text=True).stdout
    p = hrt("bisect", "tcp-leak-2.8/recipe", "--repo", repo, "--from", FROM, "--to", FIX[:9])
    assert p.returncode == 0, p.stderr[-3000:]
    first = p.stdout.splitlines()[0]
    assert first.startswith(f"fixed by {FIX[:12]}"), p.stdout
    assert "reproduced" in p.stdout and "held" in p.stdout          # the runs behind each answer
    # the user's repository is untouched: no worktree, no bisect state left behind
    assert subprocess.run(["git", "-C", repo, "worktree", "list"], capture_output=True, text=True).stdout == before
    assert subprocess.run(["git", "-C", repo, "bisect", "log"], capture_output=True).returncode != 0
