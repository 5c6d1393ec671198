"""HAProxy's release index: which releases exist and their published sha256.

Online it is HAProxy's per-branch `/download/<branch>/src/releases.json`, cached under the hrt cache;
offline, a stale cached copy, else the copy hrt ships (`harness/data/haproxy-releases.json`, refreshed with
`hrt versions --refresh-index`), so which releases are verifiable never depends on the machine.
$HRT_RELEASE_INDEX names a file that overrides all of it (either that per-branch form or a combined
`{"releases": [{"version", "branch", "sha256", "url", "date"}, ...]}` list).
"""
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from . import progress
from .errors import HrtError, UnknownVersion
from .paths import cache_dir
from .spec import branch_of, version_key

INDEX_URL = "https://www.haproxy.org/download/{branch}/src/releases.json"
TARBALL_URL = "https://www.haproxy.org/download/{branch}/src/haproxy-{version}.tar.gz"
INDEX_MAX_AGE = 24 * 3600
SHIPPED = Path(__file__).resolve().parent / "data" / "haproxy-releases.json"


@dataclass(frozen=True)
class Release:
    version: str
    branch: str
    sha256: str | None
    url: str
    date: str = ""


def _parse_index(data: dict, origin: str) -> list[Release]:
    raw = data.get("releases")
    out = []
    if isinstance(raw, list):  # combined offline catalog
        items = [(r["version"], r) for r in raw]
    elif isinstance(raw, dict):  # haproxy.org per-branch form
        items = list(raw.items())
    else:
        raise HrtError(f"release index {origin}: no 'releases' list or mapping")
    for version, r in items:
        branch = r.get("branch") or branch_of(version)
        out.append(Release(version, branch, r.get("sha256"),
                           r.get("url") or TARBALL_URL.format(branch=branch, version=version),
                           r.get("date", "")))
    return out


class ReleaseIndex:
    def __init__(self, releases: list[Release], origin: str):
        self._by_version = {r.version: r for r in releases}
        self.origin = origin

    @classmethod
    def load(cls, branches: list[str] | None = None) -> "ReleaseIndex":
        """$HRT_RELEASE_INDEX when set, else the per-branch online indexes (cached a day), a branch that
        cannot be read online coming from the shipped copy."""
        path = os.environ.get("HRT_RELEASE_INDEX")
        if path:
            try:
                data = json.loads(Path(path).read_text())
            except (OSError, ValueError) as exc:
                raise HrtError(f"HRT_RELEASE_INDEX={path}: cannot read it: {exc}") from exc
            return cls(_parse_index(data, path), path)
        shipped = shipped_releases()
        releases: list[Release] = []
        origins = set()
        for branch in branches or sorted({r.branch for r in shipped} | set(_cached_branches()), key=version_key):
            try:
                releases += _branch_index(branch)
                origins.add("haproxy.org (cached in %s)" % (cache_dir() / "index"))
            except HrtError as exc:
                own = [r for r in shipped if r.branch == branch]
                if not own:
                    raise
                _note_offline(str(exc))
                releases += own
                origins.add(f"hrt's shipped index {SHIPPED}")
        return cls(releases, " + ".join(sorted(origins)) or "no index")

    def get(self, version: str) -> Release:
        try:
            return self._by_version[version]
        except KeyError:
            raise UnknownVersion(self._unknown_message(version)) from None

    def releases(self, branch: str | None = None) -> list[Release]:
        rs = [r for r in self._by_version.values() if branch is None or r.branch == branch]
        return sorted(rs, key=lambda r: version_key(r.version), reverse=True)

    def branches(self) -> list[str]:
        return sorted({r.branch for r in self._by_version.values()}, key=version_key, reverse=True)

    def _unknown_message(self, version: str) -> str:
        branch = branch_of(version)
        same = self.releases(branch)
        if same:
            near = sorted(same, key=lambda r: abs(version_key(r.version)[-1] - version_key(version)[-1]))[:4]
            hint = "near ones: " + ", ".join(r.version for r in near)
        else:
            hint = "known branches: " + ", ".join(self.branches())
        return f"unknown HAProxy version {version} (index: {self.origin}); {hint}"


def shipped_releases() -> list[Release]:
    return _parse_index(json.loads(SHIPPED.read_text()), str(SHIPPED))


_offline_noted: set[str] = set()


def _note_offline(why: str) -> None:
    if not _offline_noted:
        as_of = json.loads(SHIPPED.read_text()).get("as_of", "?")
        progress.note(f"{why.split(';')[0]}: using hrt's shipped release index (as of {as_of}); "
                      "newer releases are unknown until it is refreshed or HRT_RELEASE_INDEX names a newer one")
    _offline_noted.add(why)


def refresh_shipped(branches: list[str] | None = None) -> Path:
    """Rewrite the shipped copy from haproxy.org (online): every branch it knows, plus `branches`."""
    data = json.loads(SHIPPED.read_text())
    known = {r["branch"] for r in data["releases"]} | set(branches or [])
    releases = []
    for branch in sorted(known, key=version_key):
        releases += _branch_index(branch, max_age=0, stale_ok=False)
    data["releases"] = [{"version": r.version, "branch": r.branch, "sha256": r.sha256, "date": r.date, "url": r.url}
                        for r in sorted(releases, key=lambda r: version_key(r.version))]
    data["as_of"] = time.strftime("%Y-%m-%d")
    SHIPPED.write_text(json.dumps(data, indent=1) + "\n")
    return SHIPPED


def _cached_branches() -> list[str]:
    d = cache_dir() / "index"
    return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []


def _branch_index(branch: str, max_age: float = INDEX_MAX_AGE, stale_ok: bool = True) -> list[Release]:
    d = cache_dir() / "index"
    d.mkdir(exist_ok=True)
    cached = d / f"{branch}.json"
    if cached.exists() and time.time() - cached.stat().st_mtime < max_age:
        return _parse_index(json.loads(cached.read_text()), str(cached))
    url = INDEX_URL.format(branch=branch)
    try:
        resp = requests.get(url, timeout=5)
        resp.raise_for_status()
        data = resp.json()
    except (requests.RequestException, ValueError) as exc:
        if cached.exists() and stale_ok:  # stale beats nothing when offline
            return _parse_index(json.loads(cached.read_text()), str(cached))
        raise HrtError(
            f"cannot read HAProxy's release index {url} ({exc.__class__.__name__}); "
            "offline, point HRT_RELEASE_INDEX at a copy of it"
        ) from exc
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(cached)
    return _parse_index(data, url)
