"""A git repository used as a source: resolve refs, archive trees, answer ancestry questions."""
import hashlib
import os
import re
import subprocess
from pathlib import Path

from .errors import SourceUnavailable
from .paths import cache_dir

GIT_TIMEOUT = 600


class GitRepo:
    def __init__(self, location: str):
        """location: a local repository (work tree or bare) or a URL, mirrored into the cache once."""
        self.location = location
        if "://" in location or location.startswith("git@"):
            self.git_dir = self._mirror(location)
        else:
            self.git_dir = Path(location)
            if not self.git_dir.exists():
                raise SourceUnavailable(f"git repository {location} does not exist")

    def git(self, *args: str, check: bool = True, timeout: int = GIT_TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(self.git_dir), *args], capture_output=True, text=True,
                              check=check, timeout=timeout)

    def resolve(self, ref: str) -> str | None:
        """The full commit id of REF, or None when the repository has no such ref."""
        r = self.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
        return r.stdout.strip() or None

    def is_ancestor(self, ancestor: str, commit: str) -> bool | None:
        """True/False, or None when the repository lacks one of the commits."""
        r = self.git("merge-base", "--is-ancestor", ancestor, commit, check=False)
        return {0: True, 1: False}.get(r.returncode)

    def describe(self, commit: str) -> str:
        r = self.git("describe", "--tags", "--always", commit, check=False)
        return r.stdout.strip() or commit[:12]

    def archive(self, commit: str, dest: Path) -> Path:
        """`git archive` of COMMIT as a tar.gz (export-subst applies, so SUBVERS carries the hash)."""
        if not dest.exists():
            tmp = dest.with_suffix(f".tmp{os.getpid()}")
            with open(tmp, "wb") as out:
                subprocess.run(["git", "-C", str(self.git_dir), "archive", "--format=tar.gz",
                                f"--prefix=haproxy-{commit[:12]}/", commit], stdout=out, check=True,
                               timeout=GIT_TIMEOUT)
            tmp.replace(dest)
        return dest

    @staticmethod
    def _mirror(url: str) -> Path:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", url)[-60:] + "-" + hashlib.sha1(url.encode()).hexdigest()[:8]
        path = cache_dir() / "git" / name
        try:
            if path.exists():
                subprocess.run(["git", "-C", str(path), "fetch", "--prune", "--tags", "origin"],
                               capture_output=True, check=True, timeout=GIT_TIMEOUT)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["git", "clone", "--mirror", "--", url, str(path)], capture_output=True,
                               check=True, timeout=GIT_TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            err = getattr(exc, "stderr", b"") or b""
            raise SourceUnavailable(f"cannot mirror {url}: {err.decode(errors='replace').strip()}") from exc
        return path


def mirrors_from_env() -> list[GitRepo]:
    """$HRT_GIT_MIRRORS: colon-separated local repositories holding HAProxy release tags."""
    out = []
    for p in filter(None, os.environ.get("HRT_GIT_MIRRORS", "").split(":")):
        if os.path.exists(os.path.expanduser(p)):
            out.append(GitRepo(os.path.expanduser(p)))
    return out
