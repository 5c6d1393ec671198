"""Debian archive mirrors as this machine's apt sources name them (no host is hard-coded)."""
import glob
import os
import re

from .errors import HrtError

SOURCES = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) + \
    sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))


def _entries(path: str):
    """Yield (uri, suites, components) from one-line `deb URI SUITE COMP...` files and deb822 stanzas."""
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return
    if path.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"])[0].lower() != "no":
                for uri in fields.get("uris", []):
                    yield uri, fields.get("suites", []), fields.get("components", [])
        return
    for line in text.splitlines():
        parts = re.sub(r"\[[^]]*\]", "", line).split()
        if len(parts) >= 3 and parts[0] == "deb":
            yield parts[1], [parts[2]], parts[3:]


def archive_mirrors() -> list[str]:
    """Mirrors serving Debian's main archive: $HRT_DEBIAN_MIRROR, else apt's own Debian entries.

    Security and third-party repositories are left out: only a plain Debian suite's URI keeps the
    `pool/main/h/haproxy/` upstream tarballs.
    """
    if os.environ.get("HRT_DEBIAN_MIRROR"):
        return [os.environ["HRT_DEBIAN_MIRROR"].rstrip("/")]
    out = []
    for path in SOURCES:
        for uri, suites, components in _entries(path):
            plain = [s for s in suites if "-" not in s and "/" not in s]
            if plain and "main" in components and uri.rstrip("/").endswith("/debian") \
                    and uri.rstrip("/") not in out:
                out.append(uri.rstrip("/"))
    return out


OS_RELEASE = "/etc/os-release"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def host_os(path: str = OS_RELEASE) -> dict:
    """The host's os-release fields (ID, VERSION_ID, PRETTY_NAME...), {} when unreadable."""
    fields = {}
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return fields
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            fields[key.strip()] = value.strip().strip('"').strip("'")
    return fields


def is_debian(os_release: dict) -> bool:
    """Debian itself: Ubuntu says ID_LIKE=debian, but its apt sources name no Debian mirror."""
    return os_release.get("ID") == "debian"


def bootstrap_mirror(os_release: dict) -> str:
    """The Debian mirror to debootstrap the images' base from: $HRT_DEBIAN_MIRROR, or on a Debian host the
    mirror its apt sources name. The images are Debian bookworm whatever the host is, so any other host
    must name a Debian mirror explicitly."""
    mirrors = archive_mirrors() if os.environ.get("HRT_DEBIAN_MIRROR") or is_debian(os_release) else []
    if mirrors:
        return mirrors[0]
    host = os_release.get("PRETTY_NAME") or os_release.get("ID") or "this host"
    raise HrtError(
        f"no registry answers and {host} names no Debian mirror to bootstrap the hrt images (Debian bookworm) "
        "from: set HRT_DEBIAN_MIRROR to one, e.g. HRT_DEBIAN_MIRROR=http://deb.debian.org/debian "
        "(or make debian:bookworm-slim pullable)")


SUITES = ("bookworm", "bookworm-updates", "bookworm-security")


def suite_sources(os_release: dict) -> list[str]:
    """apt lines for the bookworm suites a package image installs from (with the security suite, where
    Debian's current `haproxy` lives): $HRT_DEBIAN_MIRROR / $HRT_DEBIAN_SECURITY_MIRROR, else a Debian
    host's own entries. [] elsewhere: the registry's debian:bookworm-slim names its suites itself."""
    lines = []
    main = os.environ.get("HRT_DEBIAN_MIRROR", "").rstrip("/")
    security = os.environ.get("HRT_DEBIAN_SECURITY_MIRROR", "").rstrip("/")
    if main:
        lines += [f"deb {main} {s} main" for s in SUITES[:2]]
    if security:
        lines.append(f"deb {security} bookworm-security main")
    if lines or not is_debian(os_release):
        return lines
    for path in SOURCES:
        for uri, suites, components in _entries(path):
            for suite in suites:
                line = f"deb {uri.rstrip('/')} {suite} main"
                if suite in SUITES and "main" in components and line not in lines:
                    lines.append(line)
    return lines
