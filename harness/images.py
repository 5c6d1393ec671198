"""The three images: base (Debian 12, bootstrapped when no registry answers), runtime and builder.

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
from .debian import archive_mirrors, release_codename
from .dockerenv import LABEL, client
from .errors import HrtError
from .paths import DOCKERFILES_DIR

BASE_TAG = "hrt/base:{codename}"
REGISTRY_BASE = "debian:{codename}-slim"


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


def base_image() -> str:
    codename = release_codename()
    for ref in (BASE_TAG.format(codename=codename), REGISTRY_BASE.format(codename=codename)):
        if _exists(ref):
            return ref
    try:
        client().images.pull(REGISTRY_BASE.format(codename=codename))
        return REGISTRY_BASE.format(codename=codename)
    except APIError:
        pass
    return _bootstrap(codename)


def _bootstrap(codename: str) -> str:
    """debootstrap --variant=minbase from the machine's own apt mirror, then docker import."""
    mirrors = archive_mirrors()
    if not mirrors:
        raise HrtError("no Debian mirror in the apt sources (or $HRT_DEBIAN_MIRROR) to bootstrap the base image from")
    tag = BASE_TAG.format(codename=codename)
    progress.note(f"no registry answers: bootstrapping {tag} from {mirrors[0]} (debootstrap, ~1 min)")
    with tempfile.TemporaryDirectory(prefix="hrt-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        try:
            subprocess.run(["debootstrap", "--variant=minbase", codename, str(root), mirrors[0]],
                           check=True, capture_output=True, timeout=1200)
        except FileNotFoundError:
            raise HrtError("debootstrap is missing: run `make setup` (apt-get install debootstrap)") from None
        except subprocess.CalledProcessError as exc:
            raise HrtError(f"debootstrap failed:\n{exc.stdout.decode()[-2000:]}{exc.stderr.decode()[-2000:]}") from None
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
