"""SPEC grammar: which HAProxy to test (a contract with users' scripts and CI)."""
import os
import re
from dataclasses import dataclass

from .errors import HrtError

RELEASE_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
BRANCH_RE = re.compile(r"^(\d+)\.(\d+)$")
# a Debian package version (2.6.12-1+deb12u4) or a suite name (bookworm, bookworm-security)
DEB_RE = re.compile(r"^(?:\d[\w.+~:-]*|[a-z]+(?:-[a-z]+)?)$")


@dataclass(frozen=True)
class Spec:
    kind: str          # "release" | "branch" | "git" | "tar" | "bin" | "deb" | "image"
    value: str         # version, branch, repository path/URL, tarball or binary path
    ref: str = ""      # git ref for kind "git"
    text: str = ""

    def __str__(self) -> str:
        return self.text


def parse_spec(text: str) -> Spec:
    text = text.strip()
    if RELEASE_RE.match(text):
        return Spec("release", text, text=text)
    if BRANCH_RE.match(text):
        return Spec("branch", text, text=text)
    if text.startswith("git:"):
        body = text[4:]
        repo, sep, ref = body.rpartition("@")
        url_without_path = "://" in repo and "/" not in repo.split("://", 1)[1]  # the @ was user@host
        if not sep or not repo or not ref or url_without_path:
            raise HrtError(f"bad SPEC {text!r}: the git form is git:REPO@REF, e.g. git:~/src/haproxy@v3.0.11")
        if "://" not in repo and not repo.startswith("git@"):
            repo = os.path.abspath(os.path.expanduser(repo))
        return Spec("git", repo, ref, text=text)
    for kind in ("tar", "bin"):
        if text.startswith(kind + ":"):
            path = os.path.abspath(os.path.expanduser(text[len(kind) + 1:]))
            if not os.path.isfile(path):
                raise HrtError(f"bad SPEC {text!r}: no such file {path}")
            return Spec(kind, path, text=text)
    if text.startswith("deb:") and DEB_RE.match(text[4:]):
        return Spec("deb", text[4:], text=text)
    if text.startswith("image:") and len(text) > 6:
        return Spec("image", text[6:], text=text)
    raise HrtError(
        f"bad SPEC {text!r}: expected X.Y.Z (release), X.Y (newest of a branch), "
        "git:REPO@REF, tar:PATH, bin:PATH, deb:VERSION|SUITE (a Debian package) or image:REF (a Docker image)"
    )


def version_key(version: str) -> tuple:
    """Sort key for X.Y.Z (and X.Y) strings."""
    return tuple(int(p) for p in version.split("."))


def branch_of(version: str) -> str:
    return ".".join(version.split(".")[:2])


def release_of(version: str) -> str | None:
    """X.Y.Z when the build is a release (3.0.11 or 3.0.11-9e587df), else None (dev builds)."""
    m = re.match(r"^(\d+\.\d+\.\d+)(?:-[0-9a-f]{6,}(?:-\d+)?)?$", version)
    return m.group(1) if m else None


def upstream_release(version: str) -> str | None:
    """X.Y.Z at the front of a packaged HAProxy's version (2.6.12-1+deb12u4, 2.8.13-1c6b6d6)."""
    m = re.match(r"^(\d+\.\d+\.\d+)(?![\d.])", version)
    return m.group(1) if m else None
