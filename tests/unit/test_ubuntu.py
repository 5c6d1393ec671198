"""Ubuntu's archive for deb: which specs mean Ubuntu, which releases are asked, and the archive key
trusted only with its pinned fingerprint (a key of another archive is refused and nothing is cached)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import ubuntu
from harness.errors import HrtError

MIRROR = "http://ubuntu.example.invalid/ubuntu"
DEBIAN_KEY = Path("/usr/share/keyrings/debian-archive-bookworm-stable.gpg")


@pytest.mark.parametrize("text,is_ubuntu", [
    ("noble", True), ("noble-updates", True), ("jammy-security", True), ("2.8.5-1ubuntu3", True),
    ("2.4.24-0ubuntu0.22.04.1", True), ("bookworm", False), ("2.6.12-1+deb12u4", False), ("noble-backports", False),
])
def test_which_specs_are_ubuntu(monkeypatch, text, is_ubuntu):
    monkeypatch.setenv("HRT_UBUNTU_MIRROR", MIRROR)
    assert ubuntu.wanted(text) is is_ubuntu


def test_ubuntu_without_a_mirror_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("HRT_UBUNTU_MIRROR", raising=False)
    with pytest.raises(HrtError, match="HRT_UBUNTU_MIRROR"):
        ubuntu.wanted("noble")
    assert ubuntu.wanted("bookworm") is False


@pytest.mark.parametrize("text,releases", [
    ("noble-updates", ["noble"]), ("jammy", ["jammy"]), ("2.4.24-0ubuntu0.22.04.1", ["jammy"]),
    ("2.8.30-0ubuntu0.24.04.2", ["noble"]), ("2.8.5-1ubuntu3", ["noble", "jammy"]),
])
def test_releases_asked(text, releases):
    assert ubuntu.releases_for(text) == releases


def test_sources_name_every_pocket(monkeypatch):
    monkeypatch.setenv("HRT_UBUNTU_MIRROR", MIRROR + "/")
    assert ubuntu.sources("noble").splitlines() == [
        f"deb {MIRROR} noble main universe", f"deb {MIRROR} noble-updates main universe",
        f"deb {MIRROR} noble-security main universe"]


def keyring_deb(tmp_path: Path, key: Path) -> bytes:
    """A package shaped like ubuntu-keyring whose archive key file holds `key`."""
    root = tmp_path / "pkg"
    member = root / ubuntu.KEY_MEMBER
    member.parent.mkdir(parents=True)
    shutil.copy(key, member)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text("Package: ubuntu-keyring\nVersion: 1\nArchitecture: all\n"
                                               "Maintainer: t <t@example.invalid>\nDescription: t\n")
    subprocess.run(["dpkg-deb", "--build", str(root), str(tmp_path / "k.deb")], check=True, capture_output=True)
    return (tmp_path / "k.deb").read_bytes()


@pytest.mark.skipif(not DEBIAN_KEY.is_file() or not shutil.which("dpkg-deb"), reason="needs dpkg-deb and Debian's key")
def test_a_key_that_is_not_ubuntus_is_refused_and_nothing_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("HRT_UBUNTU_MIRROR", MIRROR)
    body = keyring_deb(tmp_path, DEBIAN_KEY)
    fetched = []

    class Response:
        content = body

        def raise_for_status(self):
            pass
    monkeypatch.setattr(ubuntu.requests, "get", lambda url, timeout: fetched.append(url) or Response())
    with pytest.raises(HrtError, match="not Ubuntu's archive key F6ECB3762474EDA9D21B7022871920D1991BC93C"):
        ubuntu.keyring()
    assert fetched == [f"{MIRROR}/{ubuntu.KEYRING_DEB}"]
    assert not list(Path(ubuntu.cache_dir()).glob("ubuntu-archive-*"))
