"""Debian archive mirrors as this machine's apt sources name them (no host is hard-coded)."""
import glob
import os
import re

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


def release_codename() -> str:
    try:
        for line in open("/etc/os-release"):
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"') or "bookworm"
    except OSError:
        pass
    return "bookworm"
