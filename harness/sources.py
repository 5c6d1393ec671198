"""Turn a SPEC into verified HAProxy source (or a binary), trying the places the README names, in order."""
import hashlib
import tarfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import requests

from . import progress
from .catalog import Release, ReleaseIndex
from .debian import archive_mirrors
from .errors import ChecksumMismatch, SourceUnavailable
from .gitrepo import GitRepo, mirrors_from_env
from .paths import cache_dir
from .spec import Spec

HTTP_TIMEOUT = (5, 60)


@dataclass(frozen=True)
class Source:
    spec: Spec
    identity: str              # "sha256:<hex>" for files, "git:<commit>" for commits: the build cache key
    version: str               # release number, or a git describe / tarball VERSION
    origin: str                # where it came from (URL, mirror path, file)
    tarball: Path | None = None
    binary: Path | None = None
    commit: str | None = None
    repo: GitRepo | None = None
    verified: str = ""         # how its content was checked (or that it was not)

    @property
    def provenance(self) -> dict:
        """What exactly was built and how far it can be trusted, for result.json and the report."""
        return {k: v for k, v in (("source", self.origin), ("commit", self.commit), ("verified", self.verified)) if v}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def src_cache() -> Path:
    d = cache_dir() / "src"
    d.mkdir(exist_ok=True)
    return d


def release_candidates(release: Release) -> list[str]:
    """Download URLs, in the README's order, after the cache and git mirrors."""
    urls = [release.url]
    urls += [f"{m}/pool/main/h/haproxy/haproxy_{release.version}.orig.tar.gz" for m in archive_mirrors()]
    return urls


def _download(url: str, dest: Path) -> None:
    tmp = dest.with_suffix(".part")
    try:
        with requests.get(url, stream=True, timeout=HTTP_TIMEOUT) as resp:
            resp.raise_for_status()
            total = int(resp.headers.get("content-length") or 0) or None
            with open(tmp, "wb") as out, progress.download_bar(dest.name, total) as advance:
                for chunk in resp.iter_content(1 << 16):
                    out.write(chunk)
                    advance(len(chunk))
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


def verify(path: Path, expected: str, url: str) -> None:
    """Refuse and delete a file whose sha256 differs from the release index's."""
    actual = sha256_of(path)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ChecksumMismatch(
            f"checksum mismatch for {url}: expected sha256 {expected} (release index), got {actual}; "
            f"the file was deleted and nothing was cached"
        )


def release_source(spec: Spec, release: Release) -> Source:
    """cache → git mirrors → haproxy.org → Debian's archive; every file verified."""
    tried = []
    if not release.sha256:
        raise SourceUnavailable(f"the release index has no sha256 for {release.version}: refusing to use an "
                                "unverifiable tarball; supply tar:PATH or a git mirror (HRT_GIT_MIRRORS)")
    cached = src_cache() / f"haproxy-{release.version}.tar.gz"
    if cached.exists():
        verify(cached, release.sha256, str(cached))
        return Source(spec, f"sha256:{release.sha256}", release.version, f"cache {cached}", tarball=cached,
                      verified=f"sha256 {release.sha256} from the release index")
    tried.append(f"cache {cached}")
    for repo in mirrors_from_env():
        commit = repo.resolve(f"v{release.version}")
        tried.append(f"git mirror {repo.location} (tag v{release.version})")
        if commit:
            tar = repo.archive(commit, src_cache() / f"git-{commit}.tar.gz")
            return Source(spec, f"git:{commit}", release.version, f"{repo.location} v{release.version}",
                          tarball=tar, commit=commit, repo=repo,
                          verified=f"not compared with the release tarball: built from the tag v{release.version} "
                                   f"(commit {commit[:12]}) of a local mirror (a git archive differs from the "
                                   "tarball byte for byte, so the index's sha256 cannot check it)")
    for url in release_candidates(release):
        tried.append(url)
        try:
            progress.note(f"downloading {url}")
            _download(url, cached)
        except requests.RequestException as exc:
            tried[-1] += f" ({exc.__class__.__name__})"
            continue
        verify(cached, release.sha256, url)
        return Source(spec, f"sha256:{release.sha256}", release.version, url, tarball=cached,
                      verified=f"sha256 {release.sha256} from the release index")
    raise SourceUnavailable(
        f"no source reachable for HAProxy {release.version}. Tried:\n  - " + "\n  - ".join(tried) +
        "\nSupply one: hrt ... --haproxy tar:/path/haproxy-X.Y.Z.tar.gz, or a git mirror with release tags "
        "(HRT_GIT_MIRRORS=/path/to/haproxy.git)"
    )


_down_hosts: set[str] = set()


@lru_cache(maxsize=None)
def _online(url: str) -> bool:
    """HEAD probe; a host that failed to connect once is not asked again in this process."""
    host = urlsplit(url).netloc
    if host in _down_hosts:
        return False
    try:
        return requests.head(url, timeout=5, allow_redirects=True).status_code == 200
    except requests.RequestException:
        _down_hosts.add(host)
        return False


def reachable(release: Release) -> str | None:
    """Where this release's source could come from right now (cheap checks), or None."""
    if (src_cache() / f"haproxy-{release.version}.tar.gz").exists():
        return "cache"
    for repo in mirrors_from_env():
        if repo.resolve(f"v{release.version}"):
            return f"git mirror {repo.location}"
    for url in release_candidates(release):
        if _online(url):
            return url
    return None


def git_source(spec: Spec) -> Source:
    repo = GitRepo(spec.value)
    commit = repo.resolve(spec.ref)
    if not commit:
        raise SourceUnavailable(f"{spec.value} has no commit {spec.ref!r} (git rev-parse failed)")
    tar = repo.archive(commit, src_cache() / f"git-{commit}.tar.gz")
    return Source(spec, f"git:{commit}", repo.describe(commit), f"{spec.value}@{spec.ref}",
                  tarball=tar, commit=commit, repo=repo)


def tar_source(spec: Spec) -> Source:
    path = Path(spec.value)
    version = "unknown"
    try:
        with tarfile.open(path) as tf:
            for member in tf:
                if member.name.count("/") == 1 and member.name.endswith("/VERSION"):
                    version = tf.extractfile(member).read().decode().strip() or version
                    break
    except tarfile.TarError as exc:
        raise SourceUnavailable(f"{path} is not a readable tarball: {exc}") from exc
    return Source(spec, f"sha256:{sha256_of(path)}", version, str(path), tarball=path)


def resolve(spec: Spec, index_loader=ReleaseIndex.load) -> Source:
    """The verified source for SPEC; for a branch, its newest release with a reachable source."""
    if spec.kind == "release":
        index = index_loader([spec.value.rsplit(".", 1)[0]])
        return release_source(spec, index.get(spec.value))
    if spec.kind == "branch":
        index = index_loader([spec.value])
        releases = index.releases(spec.value)
        if not releases:
            index.get(spec.value + ".0")  # raises UnknownVersion with near branches
        for i, rel in enumerate(releases):
            if reachable(rel):
                if i:
                    progress.note(f"{spec.value}: picked {rel.version}, the newest with a reachable source; "
                                  f"newer known: {', '.join(r.version for r in releases[:i])}")
                else:
                    progress.note(f"{spec.value}: newest release is {rel.version}")
                return release_source(Spec("release", rel.version, text=spec.text), rel)
        raise SourceUnavailable(f"no release of {spec.value} has a reachable source (newest known: "
                                f"{releases[0].version}); set HRT_GIT_MIRRORS or use tar:PATH")
    if spec.kind == "git":
        return git_source(spec)
    if spec.kind == "tar":
        return tar_source(spec)
    if spec.kind in ("deb", "image"):   # installed or found when "built" (harness/packaged.py)
        return Source(spec, f"{spec.kind}:{spec.value}", "unknown", spec.text)
    path = Path(spec.value)
    return Source(spec, f"sha256:{sha256_of(path)}", "unknown", str(path), binary=path)
