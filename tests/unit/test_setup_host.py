"""ci/setup-host.sh respects the host: a Docker engine that answers is used as it is (nothing installed),
packages are installed only on Debian, elsewhere it names what to install. Fake commands on PATH record
what the script would have run."""
import os
import subprocess
from pathlib import Path

import pytest

from tests.unit.test_debian import DEBIAN_12, FEDORA, UBUNTU_2404

SCRIPT = Path(__file__).resolve().parents[2] / "ci" / "setup-host.sh"


def fake_host(tmp_path, os_release: str, docker_answers: bool, dockerd: bool, uid: int = 0):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    tools = {"docker": f"echo docker \"$@\" >> {log}; exit {0 if docker_answers else 1}",
             "apt-get": f"echo apt-get \"$@\" >> {log}", "id": f"echo {uid}",
             "nsenter": "true", "debootstrap": "true", "chromium": "true", "systemctl": "exit 1",
             "nohup": f"echo nohup \"$@\" >> {log}", "sleep": "true"}
    if dockerd:
        tools["dockerd"] = "true"
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    (tmp_path / "os-release").write_text(os_release)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HRT_OS_RELEASE": str(tmp_path / "os-release"),
           "PYTHON": os.environ.get("PYTHON", "python3")}
    return env, log


def run(env, *args):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("os_release", [DEBIAN_12, UBUNTU_2404, FEDORA])
def test_an_engine_that_answers_is_used_and_nothing_installed(tmp_path, os_release):
    env, log = fake_host(tmp_path, os_release, docker_answers=True, dockerd=False)
    p = run(env)
    assert "ok: a Docker engine answers" in p.stdout, p.stdout + p.stderr
    assert "apt-get" not in (log.read_text() if log.exists() else "")


def test_debian_without_docker_installs_docker_io_as_root(tmp_path):
    env, log = fake_host(tmp_path, DEBIAN_12, docker_answers=False, dockerd=False)
    run(env)
    assert "apt-get install -y -q --no-install-recommends docker.io" in log.read_text()


@pytest.mark.parametrize("os_release,name", [(UBUNTU_2404, "Ubuntu 24.04"), (FEDORA, "Fedora Linux 41")])
def test_elsewhere_without_docker_says_what_to_install_and_installs_nothing(tmp_path, os_release, name):
    env, log = fake_host(tmp_path, os_release, docker_answers=False, dockerd=False)
    p = run(env)
    assert p.returncode == 2 and name in p.stdout and "install Docker Engine" in p.stdout, p.stdout
    assert "apt-get" not in (log.read_text() if log.exists() else "")


def test_installed_but_stopped_engine_without_root_says_how_to_start_it(tmp_path):
    env, log = fake_host(tmp_path, UBUNTU_2404, docker_answers=False, dockerd=True, uid=1000)
    p = run(env)
    assert p.returncode == 2 and "systemctl start docker" in p.stdout and "nohup" not in log.read_text()


def test_chromium_only_for_the_test_suite(tmp_path):
    env, _ = fake_host(tmp_path, DEBIAN_12, docker_answers=True, dockerd=True)
    assert "Chromium" not in run(env).stdout
    assert "ok: a headless Chromium present" in run(env, "--test").stdout
