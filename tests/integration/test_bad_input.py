"""Bad input gets a clear error and loses nothing, against the real engine and real builds."""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

import docker
import pytest

from harness.case import find
from harness.errors import ConfigRejected
from harness.instance import HAProxyInstance
from harness.runner import check

pytestmark = pytest.mark.docker
HRT = [sys.executable, "-m", "harness.cli"]


def hrt(*args, env=None, timeout=600):
    return subprocess.run([*HRT, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def hrt_containers(owner: int):
    """hrt's containers made by process `owner` (other hrt runs on the machine are not this test's)."""
    return docker.from_env().containers.list(all=True, filters={"label": f"hrt.owner={owner}"})


def test_haproxy_c_failure_shows_message_and_numbered_config(images, prepared, tmp_path):
    _, b, _ = prepared("3.0.11")
    inst = HAProxyInstance(b, images, "global\n    no-such-keyword 1\n", "badcfg")
    with pytest.raises(ConfigRejected) as exc:
        try:
            inst.check()
        finally:
            inst.close(tmp_path / "evidence")
    text = str(exc.value)
    assert "no-such-keyword" in exc.value.haproxy_output      # HAProxy's own message
    assert "   2      no-such-keyword 1" in text                # the rendered config, numbered
    assert not hrt_containers(os.getpid())


def test_build_failure_is_untestable_with_log_tail(tmp_path, images):
    tarball = tmp_path / "broken.tar.gz"
    with tarfile.open(tarball, "w:gz") as tf:
        for name, data in {"haproxy-broken/Makefile": b"all:\n\t@echo boom-from-the-makefile; exit 3\n",
                           "haproxy-broken/VERSION": b"3.0-broken\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    (variant,) = find("canary-crash/no-crash")
    r = check(variant, f"tar:{tarball}", images=images)
    assert r.verdict == "untestable"
    assert "boom-from-the-makefile" in r.reason and "build log" in r.reason


def test_unknown_version_suggests_near_ones():
    p = hrt("check", "canary-crash", "--haproxy", "3.0.99")
    assert p.returncode == 2
    assert "unknown HAProxy version 3.0.99" in p.stderr and "near ones: 3.0.25" in p.stderr


def test_unreachable_source_lists_what_was_tried(tmp_path):
    env = {"HRT_CACHE": str(tmp_path), "HRT_GIT_MIRRORS": "", "HRT_DEBIAN_MIRROR": "http://127.0.0.1:9/debian"}
    for argv in (("check", "canary-crash/no-crash", "--haproxy", "2.8.5", "--json"), ("build", "2.8.5"),
                 ("test", "2.8.5", "--case", "canary-crash/no-crash")):
        p = hrt(*argv, env=env)
        assert p.returncode == 2, argv   # the input cannot be resolved: a usage error, never a green skip
        assert p.stdout == "" or "verdict" not in p.stdout
        for tried in ("cache", "haproxy.org", "127.0.0.1:9", "HRT_GIT_MIRRORS", "tar:"):
            assert tried in p.stderr, p.stderr
    assert not list(tmp_path.glob("src/*.tar.gz"))


@pytest.mark.parametrize("spec,says", [("git:/nonexistent/haproxy@v3.0.11", "/nonexistent/haproxy"),
                                       ("git:{mirror}@no-such-ref-xyz", "no-such-ref-xyz"),
                                       ("tar:/nonexistent/haproxy.tar.gz", "no such file")])
def test_unresolvable_sources_are_usage_errors(tmp_path, spec, says):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    spec = spec.format(mirror=repo)
    p = hrt("check", "canary-crash/no-crash", "--haproxy", spec, "--strict", env={"HRT_CACHE": str(tmp_path)})
    assert p.returncode == 2, p.stderr
    assert says in p.stderr, p.stderr


def test_docker_missing_says_how_to_start_it():
    p = hrt("setup", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert p.returncode == 2
    assert "Docker is not available" in p.stderr and "make setup" in p.stderr


def test_ctrl_c_removes_containers(prepared):
    prepared("3.0.11")  # built beforehand so the interrupt lands in the run, not the build
    proc = subprocess.Popen([*HRT, "check", "canary-stuck-streams/no-timeout", "--haproxy", "3.0.11"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not hrt_containers(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert hrt_containers(proc.pid), "the run never started a container"
    time.sleep(1.5)  # inside the scenario
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not hrt_containers(proc.pid)


def test_a_config_the_haproxy_refuses_is_untestable_with_its_words(tmp_path, prepared):
    """A case whose config this HAProxy refuses (e.g. a keyword it predates): untestable with HAProxy's
    alert as the reason, the refusal kept in the evidence, no run counted, not an error."""
    prepared("3.0.11")
    root = find("canary-crash/no-crash")[0].case.path.parents[1]
    cases, configs = tmp_path / "cases", tmp_path / "configs"
    shutil.copytree(root / "haproxy_configs", configs)
    (configs / "refused.cfg.j2").write_text("global\n    no-such-keyword 1\n")
    (cases / "refused").mkdir(parents=True)
    (cases / "refused" / "scenario.py").write_text("def run(ctx):\n    ctx.decide()\n")
    (cases / "refused" / "case.toml").write_text('title = "refused"\ntemplate = "refused.cfg.j2"\nexpect = "held"\n'
                                                 'oracles = [{ name = "crash" }]\n')
    env = {"HRT_CASES_DIR": str(cases), "HRT_CONFIGS_DIR": str(configs), "HRT_RESULTS": str(tmp_path / "results")}
    p = hrt("check", "refused", "--haproxy", "3.0.11", "--json", env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["verdict"], out["runs"]) == ("untestable", 0), out
    full = json.loads(next((tmp_path / "results").rglob("result.json")).read_text())
    assert "haproxy -c rejected the case's config" in full["reason"] and "no-such-keyword" in full["reason"]
    assert "Traceback" not in p.stderr
    (kept,) = (tmp_path / "results").rglob("config-rejected.txt")
    assert "no-such-keyword" in kept.read_text()
    assert hrt("check", "refused", "--haproxy", "3.0.11", "--strict", env=env).returncode == 1   # CI: not green
