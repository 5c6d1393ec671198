"""HAProxy as people deploy it: a Debian or Ubuntu package (`deb:VERSION|SUITE`) or any Docker image (`image:REF`).

Nothing is compiled: a Debian package is installed by apt with its dependencies in an image made from
hrt's runtime image (so gdb is there; cached per package version), an Ubuntu one on a base of its release
(harness/ubuntu.py); a user's image runs as it is. Images without gdb have their filesystem exported once
per image id as the sysroot of the runtime image's gdb. The upstream version such a HAProxy reports is
only a hint: distributions backport fixes, so the measured verdict decides (see expectation.py).
"""
import io
import platform
import re
import shlex
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from docker.errors import APIError, BuildError, ImageNotFound, NotFound

from . import progress
from .build import Build
from . import ubuntu
from .debian import host_os, suite_sources
from .dockerenv import LABEL, client, labels, run_in_container
from .errors import HrtError
from .features import parse_vv
from .images import Images, bootstrap
from .paths import cache_dir
from .runtime import DOCKER_ARCH, Runtime, check_arch
from .sources import Source

PACKAGE_REPO = "hrt/deb-haproxy"
PACKAGE_EXE = "/usr/sbin/haproxy"
# where images keep HAProxy: the official image, Debian/Ubuntu packages, hand-made images
IMAGE_PATHS = ("/usr/local/sbin/haproxy", "/usr/sbin/haproxy", "/usr/local/bin/haproxy", "/usr/bin/haproxy",
               "/haproxy")
APT = "apt-get -q -o Acquire::http::Timeout=20 -o Acquire::Retries=2"
MADISON_RE = re.compile(r"^\s*haproxy\s*\|\s*(\S+)\s*\|\s*\S+\s+(\S+?)/", re.M)
# Debug symbols come from Debian's debug archive (`<mirror>-debug`) when it answers (Ubuntu's ddebs are not
# asked); the image is cached either way, and backtraces without them say that symbols are missing.
PACKAGE_DOCKERFILE = f"""ARG BASE
FROM ${{BASE}}
ARG SOURCES
ARG VERSION
ARG DEBUG_SOURCES
RUN printf '%s\\n' "$SOURCES" > /etc/apt/sources.list.d/hrt-suites.list \\
 && {APT} update \\
 && DEBIAN_FRONTEND=noninteractive {APT} install -y --no-install-recommends "haproxy=$VERSION" \\
 && rm -rf /var/lib/apt/lists/*
RUN ( [ -n "$DEBUG_SOURCES" ] && printf '%s\\n' "$DEBUG_SOURCES" > /etc/apt/sources.list.d/hrt-debug.list \\
      && {APT} update && {APT} install -y --no-install-recommends "haproxy-dbgsym=$VERSION" \\
      && echo "haproxy-dbgsym $VERSION" > /hrt-dbgsym ) \\
    || echo "none: ${{DEBUG_SOURCES:+no debug archive answered}}${{DEBUG_SOURCES:-none asked}}" > /hrt-dbgsym; \\
    rm -f /etc/apt/sources.list.d/hrt-debug.list; rm -rf /var/lib/apt/lists/*
"""


def packaged_build(source: Source, profile: str, images: Images) -> Build:
    """The packager chose the build options: every profile names the same binary, and a case's `requires`
    (read from its -vv) says whether it can test it."""
    if source.spec.kind == "deb":
        runtime = deb_runtime(source.spec.value, images)
    else:
        ref, _, path = source.spec.value.partition("#")
        runtime = image_runtime(ref, images, path or None)
    status, vv = run_in_container(runtime.image, ["-vv"], runtime.mounts, 60, entrypoint=[runtime.exe])
    if status != 0:
        raise HrtError(f"{source.spec.text}: {runtime.exe} -vv failed (exit {status}):\n{vv[-2000:]}")
    return Build(source, profile, None, parse_vv(vv), runtime)


# --- deb:VERSION | deb:SUITE ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Archive:
    """Where a `deb:` package comes from and what it is installed on: Debian's on hrt's runtime image (gdb
    inside), Ubuntu's on a base of its release (gdb from the runtime image, that image as sysroot)."""
    name: str            # "Debian 12 (bookworm)", "Ubuntu 24.04 (noble)"
    base: str            # image the package is installed on
    sources: str         # apt lines
    debug_sources: str   # apt lines of its debug archive ("" when none is asked)
    gdb_inside: bool


def archives(wanted: str, images: Images) -> list[Archive]:
    """The archives that may hold deb:WANTED, in the order they are asked."""
    if not ubuntu.wanted(wanted):
        debian = "\n".join(suite_sources(host_os()))
        mirror = next((line.split()[1] for line in debian.splitlines()), "")
        debug = f"deb {mirror}-debug bookworm-debug main\ndeb {mirror}-debug bookworm-proposed-updates-debug main" \
            if mirror.endswith("/debian") else ""
        return [Archive("Debian 12 (bookworm)", images.runtime, debian, debug, True)]
    return [Archive(f"Ubuntu {ubuntu.RELEASES[r]} ({r})", ubuntu.base_image(r, bootstrap), ubuntu.sources(r), "", False)
            for r in ubuntu.releases_for(wanted)]


def archive_versions(archive: Archive) -> list[tuple[str, str]]:
    """(version, suite) of every `haproxy` the archive offers, asked through apt on its base image."""
    script = (f"printf '%s\\n' {shlex.quote(archive.sources)} > /etc/apt/sources.list.d/hrt-suites.list && "
              f"{APT} update >/dev/null 2>&1; apt-cache madison haproxy")
    status, out = run_in_container(archive.base, ["-c", script], {}, 300, network="bridge", entrypoint=["sh"])
    found = MADISON_RE.findall(out)
    if not found:
        raise HrtError(f"{archive.name}'s archive could not be asked for haproxy (apt exit {status}):\n"
                       f"{out[-1500:]}\ncheck the network and HRT_DEBIAN_MIRROR / HRT_DEBIAN_SECURITY_MIRROR / "
                       "HRT_UBUNTU_MIRROR")
    return found


def _pick(wanted: str, archives_offered: list[tuple[Archive, list[tuple[str, str]]]]) -> tuple[Archive, str]:
    for archive, offered in archives_offered:
        if wanted[0].isdigit() and wanted in (v for v, _ in offered):
            return archive, wanted
        in_suite = [v for v, s in offered if s == wanted]
        if in_suite:
            return archive, in_suite[0]   # madison lists the newest first
    several = len(archives_offered) > 1
    listing = "; ".join((f"{a.name}: " if several else "") + ", ".join(f"{v} ({s})" for v, s in offered)
                        for a, offered in archives_offered)
    what = f"haproxy {wanted}" if wanted[0].isdigit() else f"haproxy in suite {wanted}"
    raise HrtError(f"{' / '.join(a.name for a, _ in archives_offered)}'s archive has no {what}; it has: {listing}")


def package_tag(version: str, base_image: str) -> str:
    return f"{PACKAGE_REPO}:{re.sub(r'[^A-Za-z0-9_.-]', '_', version)}-{base_image.split(':')[-1][:12]}"


def deb_runtime(wanted: str, images: Images) -> Runtime:
    candidates = archives(wanted, images)
    found = None
    if wanted[0].isdigit():   # an exact version already installed: no archive is asked
        found = next(((a, img) for a in candidates if (img := _cached(package_tag(wanted, _id(a.base))))), None)
    if found is None:
        archive, version = _pick(wanted, [(a, archive_versions(a)) for a in candidates])
        tag = package_tag(version, _id(archive.base))
        found = archive, _cached(tag) or _build_package_image(version, tag, archive)
    archive, image = found
    identity = {"package": "haproxy", "version": image.labels["hrt.package-version"], "archive": archive.name,
                "image": image.id, "debug_symbols": _read_file(image.id, "/hrt-dbgsym").strip() or "unknown"}
    if archive.gdb_inside:
        return Runtime(image.id, PACKAGE_EXE, {}, identity=identity)
    return Runtime(image.id, PACKAGE_EXE, {}, sysroot=_sysroot(image.id), identity=identity)


def _id(ref: str) -> str:
    return client().images.get(ref).id


def _cached(tag: str):
    try:
        return client().images.get(tag)
    except ImageNotFound:
        return None


def _build_package_image(version: str, tag: str, archive: Archive):
    progress.note(f"installing {archive.name}'s haproxy {version} with apt in an image made from {archive.base[:19]}")
    try:
        image, _ = client().images.build(
            fileobj=io.BytesIO(PACKAGE_DOCKERFILE.encode()), tag=tag, rm=True, forcerm=True, pull=False,
            buildargs={"BASE": archive.base, "SOURCES": archive.sources, "VERSION": version,
                       "DEBUG_SOURCES": archive.debug_sources},
            labels={LABEL: "deb", "hrt.package-version": version}, timeout=1200)
    except BuildError as exc:   # nothing is tagged: nothing half-built is cached
        log = "".join(str(x.get("stream", x.get("error", ""))) for x in exc.build_log)
        raise HrtError(f"installing haproxy {version} failed:\n{log[-3000:]}") from None
    return image


def _read_file(image: str, path: str) -> str:
    """A small file of an image, read without running it (works for images with no shell)."""
    ctr = client().containers.create(image, ["true"], labels=labels("inspect"), entrypoint=["/"])
    try:
        stream, _ = ctr.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tf:
            member = tf.getmembers()[0]
            f = tf.extractfile(member)
            return f.read().decode(errors="replace") if f else ""
    except NotFound:
        return ""
    finally:
        ctr.remove(force=True)


# --- image:REF -------------------------------------------------------------------------------------------
def _image(ref: str):
    try:
        return client().images.get(ref)
    except ImageNotFound:
        pass
    try:
        progress.note(f"pulling {ref}")
        return client().images.pull(ref)
    except (APIError, ImageNotFound) as exc:
        raise HrtError(f"image:{ref}: no such image here and none could be pulled ({str(exc)[:200]})") from None


def _exists(image_id: str, path: str) -> bool:
    ctr = client().containers.create(image_id, ["true"], labels=labels("inspect"), entrypoint=["/"])
    try:
        ctr.get_archive(path)
        return True
    except NotFound:
        return False
    finally:
        ctr.remove(force=True)


def find_haproxy(image, haproxy_path: str | None = None) -> str:
    """The image's HAProxy: --haproxy-path, else its entrypoint/command when they name one, else the
    usual places."""
    config = image.attrs.get("Config") or {}
    named = [a for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
             if a.startswith("/") and a.rsplit("/", 1)[-1] == "haproxy"]
    candidates = [haproxy_path] if haproxy_path else [*named, *IMAGE_PATHS]
    for path in candidates:
        if _exists(image.id, path):
            return path
    raise HrtError(f"image {image.tags[0] if image.tags else image.id[:19]} holds no HAProxy at "
                   f"{', '.join(candidates)}" + ("" if haproxy_path else "; name it with --haproxy-path"))


def image_runtime(ref: str, images: Images, haproxy_path: str | None = None) -> Runtime:
    image = _image(ref)
    arch = image.attrs.get("Architecture", "")
    check_arch(DOCKER_ARCH.get(arch, arch or platform.machine()), f"image:{ref}")
    exe = find_haproxy(image, haproxy_path)
    return Runtime(image.id, exe, {}, sysroot=_sysroot(image.id), identity={
        "image": ref, "id": image.id, "digests": image.attrs.get("RepoDigests", []), "haproxy": exe})


def _sysroot(image_id: str) -> Path:
    """The image's filesystem on the host (exported once per image id), for gdb to read its libraries."""
    root = cache_dir() / "sysroots" / image_id.split(":")[-1][:16]
    done = root.with_suffix(".done")
    if done.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    ctr = client().containers.create(image_id, ["true"], labels=labels("inspect"), entrypoint=["/"])
    try:
        tar = subprocess.Popen(["tar", "-x", "-C", str(root), "--no-same-owner", "--exclude=dev/*"],
                               stdin=subprocess.PIPE)
        for chunk in ctr.export():
            tar.stdin.write(chunk)
        tar.stdin.close()
        if tar.wait(timeout=600) != 0:
            raise HrtError(f"exporting {image_id[:19]}'s filesystem for gdb failed")
    finally:
        ctr.remove(force=True)
    done.touch()
    return root
