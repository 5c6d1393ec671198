"""The three images: base (Debian 12 bookworm on any host, bootstrapped when no registry answers), runtime, builder.

Images are tagged by a hash of their Dockerfile and parent image id, so a second `make setup` finds them
and does nothing; the builder image id is part of every build's cache key.
"""
import hashlib
import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from docker.errors import APIError, BuildError, ImageNotFound

from . import progress
from .debian import KEYRING, bootstrap_mirror, host_os
from .dockerenv import LABEL, client
from .errors import HrtError
from .paths import DOCKERFILES_DIR

# The images are Debian 12 whatever the host is (an Ubuntu runner, Fedora): the builds and the runtime
# libraries they link must not change with the machine. The registry image is pinned by digest (an image
# index, so any architecture); without a registry the same suite is bootstrapped from a Debian mirror.
SUITE = "bookworm"
BASE_TAG = f"hrt/base:{SUITE}"
REGISTRY_BASE = "debian:bookworm-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251"


@dataclass(frozen=True)
class Images:
    base: str
    runtime: str      # image id
    builder: str      # image id


def _exists(ref: str) -> str | None:
    try:
        return client().images.get(ref).id
    except ImageNotFound:
        return None


def _pulled(ref: str) -> bool:
    name, _, digest = ref.partition("@")
    try:
        client().images.pull(name.split(":")[0], tag=digest)   # by digest, as `docker pull name@digest`
        return True
    except APIError:
        return False


def base_image(os_release: dict | None = None) -> str:
    """hrt's bootstrapped base, else the pinned registry image (pulled when a registry answers),
    else a debootstrap of bookworm (the mirror rule is in debian.bootstrap_mirror)."""
    for ref in (BASE_TAG, REGISTRY_BASE):
        if _exists(ref):
            return ref
    if _pulled(REGISTRY_BASE):
        return REGISTRY_BASE
    return bootstrap(SUITE, bootstrap_mirror(host_os() if os_release is None else os_release), KEYRING, BASE_TAG)


def bootstrap(suite: str, mirror: str, keyring: str, tag: str, script: str | None = None) -> str:
    """debootstrap --variant=minbase of `suite`, checked with `keyring`, then docker import as `tag`
    (kept: a second call finds it). Also Ubuntu's bases (harness/ubuntu.py)."""
    if _exists(tag):
        return tag
    if not Path(keyring).is_file():
        raise HrtError(f"{keyring} is missing: debootstrap checks {mirror}'s signatures with it (Debian's: "
                       "apt-get install debian-archive-keyring)")
    progress.note(f"bootstrapping {tag} from {mirror} (debootstrap, ~1 min)")
    with tempfile.TemporaryDirectory(prefix="hrt-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        try:
            subprocess.run(["debootstrap", "--variant=minbase", f"--keyring={keyring}", suite, str(root), mirror,
                            *([script] if script else [])], check=True, capture_output=True, timeout=1200)
        except FileNotFoundError:
            raise HrtError("debootstrap is missing: run `make setup` (apt-get install debootstrap)") from None
        except subprocess.CalledProcessError as exc:
            raise HrtError(f"debootstrap of {suite} from {mirror} failed:\n"
                           f"{exc.stdout.decode()[-2000:]}{exc.stderr.decode()[-2000:]}") from None
        tarball = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True, timeout=600)
        repo, _, tagname = tag.partition(":")
        client().api.import_image(src=str(tarball), repository=repo, tag=tagname,
                                  changes=[f"LABEL {LABEL}=base", 'CMD ["/bin/bash"]'])
    return tag


def _derived(name: str, dockerfile: str, parent: str) -> str:
    parent_id = client().images.get(parent).id
    text = (DOCKERFILES_DIR / dockerfile).read_text()
    digest = hashlib.sha256((text + parent_id).encode()).hexdigest()[:12]
    tag = f"hrt/{name}:{digest}"
    existing = _exists(tag)
    if existing:
        return existing
    progress.note(f"building image {tag} from {dockerfile} (apt inside the container)")
    try:
        image, _ = client().images.build(fileobj=io.BytesIO(text.encode()), tag=tag, rm=True, forcerm=True,
                                         buildargs={"BASE": parent}, labels={LABEL: name}, pull=False)
    except BuildError as exc:
        log = "".join(str(x.get("stream", x.get("error", ""))) for x in exc.build_log)
        raise HrtError(f"building the {name} image failed:\n{log[-3000:]}") from None
    return image.id


def ensure_images() -> Images:
    base = base_image()
    runtime = _derived("runtime", "runtime.Dockerfile", base)
    builder = _derived("builder", "builder.Dockerfile", base)  # not from runtime: its tools never invalidate builds
    return Images(base, runtime, builder)


def prune_stale(current: Images) -> int:
    """Remove runtime/builder images of earlier Dockerfile versions (their builds are keyed elsewhere)."""
    n = 0
    for image in client().images.list(filters={"label": LABEL}):
        if image.id in (current.runtime, current.builder):
            continue
        if any(t.startswith(("hrt/runtime:", "hrt/builder:")) for t in image.tags):
            try:
                client().images.remove(image.id, force=True)
                n += 1
            except APIError:
                pass
    return n
