"""The base image is Debian bookworm whatever the host is: registry (pinned digest) or debootstrap of bookworm."""
import pytest
from docker.errors import APIError, ImageNotFound

from harness import images
from tests.unit.test_debian import DEBIAN_12, FEDORA, UBUNTU_2404


class FakeImages:
    """The slice of docker's ImageCollection that base_image uses: a registry that answers or not."""

    def __init__(self, local=(), registry=False):
        self.local = set(local)
        self.registry = registry
        self.pulled = []

    def get(self, ref):
        if ref not in self.local:
            raise ImageNotFound(ref)
        return type("Image", (), {"id": "sha256:" + ref})()

    def pull(self, repo, tag=None):
        self.pulled.append((repo, tag))
        if not self.registry:
            raise APIError("no registry")
        self.local.add(images.REGISTRY_BASE)


@pytest.fixture
def fake(monkeypatch):
    def make(**kw):
        f = FakeImages(**kw)
        monkeypatch.setattr(images, "client", lambda: type("Client", (), {"images": f})())
        monkeypatch.setattr(images, "bootstrap", lambda suite, mirror, keyring, tag: f"bootstrapped from {mirror}")
        return f
    return make


def os_release(tmp_path, text):
    p = tmp_path / "os-release"
    p.write_text(text)
    return images.host_os(str(p))


def test_registry_base_is_bookworm_pinned_by_digest():
    name, _, digest = images.REGISTRY_BASE.partition("@")
    assert name == "debian:bookworm-slim" and digest.startswith("sha256:") and len(digest) == 71
    assert images.BASE_TAG == "hrt/base:bookworm"


@pytest.mark.parametrize("text", [DEBIAN_12, UBUNTU_2404, FEDORA])
def test_registry_answer_gives_the_pinned_image_on_every_host(tmp_path, fake, text):
    f = fake(registry=True)
    assert images.base_image(os_release(tmp_path, text)) == images.REGISTRY_BASE
    assert f.pulled == [("debian", images.REGISTRY_BASE.split("@")[1])]


@pytest.mark.parametrize("text", [DEBIAN_12, UBUNTU_2404, FEDORA])
def test_existing_bootstrapped_base_is_reused_without_pulling(tmp_path, fake, text):
    f = fake(local=[images.BASE_TAG])
    assert images.base_image(os_release(tmp_path, text)) == images.BASE_TAG
    assert f.pulled == []


def test_no_registry_on_debian_bootstraps_bookworm_from_apt_mirror(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(images, "bootstrap_mirror", lambda osr: "http://deb.example.invalid/debian"
                        if osr.get("ID") == "debian" else pytest.fail("not debian"))
    fake()
    assert images.base_image(os_release(tmp_path, DEBIAN_12)) == "bootstrapped from http://deb.example.invalid/debian"


@pytest.mark.parametrize("text", [UBUNTU_2404, FEDORA])
def test_no_registry_elsewhere_is_one_clear_error(tmp_path, fake, text, monkeypatch):
    fake()
    with pytest.raises(images.HrtError, match="HRT_DEBIAN_MIRROR"):
        images.base_image(os_release(tmp_path, text))
    monkeypatch.setenv("HRT_DEBIAN_MIRROR", "http://127.0.0.1:9/debian")
    assert images.base_image(os_release(tmp_path, text)) == "bootstrapped from http://127.0.0.1:9/debian"
