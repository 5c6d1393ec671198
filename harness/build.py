"""Build HAProxy in the builder container, cached by (source identity, profile, builder image id).

Compilers go through ccache (in the builder image) with one cache directory on the host for every
build: it is content-addressed, so a release tarball, its git tag and the neighbouring commits of a
bisection all share their unchanged objects, whichever repository they came from.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from . import progress
from .dockerenv import run_in_container
from .errors import BuildFailed, FeatureMissing, HrtError
from .features import Features, parse_vv
from .images import Images, ensure_images
from .paths import cache_dir
from .profiles import make_args, missing_options, tree_version
from .runtime import Runtime, check_binary, for_file, missing_libraries
from .sources import Source

BUILD_TIMEOUT = 1800
# zero the counters, build, print them into the log (where _ccache_hits reads them) when the build
# succeeded: a failed build's log must end with the compiler's error
CCACHE_WRAP = 'ccache -z >/dev/null; "$@" || exit $?; ccache -s'
HITS_RE = re.compile(r"^\s*Hits:\s+(\d+)\s*/\s*(\d+)", re.M)


@dataclass(frozen=True)
class Build:
    source: Source
    profile: str
    binary: Path | None       # the host file, when there is one (not for deb:/image:)
    features: Features
    runtime: Runtime          # how and where it runs
    seconds: float = 0.0      # 0 when reused from the cache
    ccache: str = ""          # "hits/calls" of a fresh build

    @property
    def version(self) -> str:
        return self.features.version


def build_key(source: Source, profile: str, builder_id: str) -> str:
    return hashlib.sha256(f"{source.identity}|{profile}|{builder_id}".encode()).hexdigest()[:16]


def _safe_extract(tarball: Path, dest: Path) -> Path:
    """Extract and return the tree's top directory (tarballs hold one). GNU tar, not tarfile: Debian 12's
    Python 3.11.2 predates extraction filters, and tar already refuses members that climb out with `..`,
    strips leading slashes and, with --no-same-owner, keeps the files ours."""
    r = subprocess.run(["tar", "-xzf", str(tarball), "-C", str(dest), "--no-same-owner"], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        raise HrtError(f"{tarball}: tar could not extract it: {r.stderr.strip()[-500:]}")
    tops = [p for p in dest.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise HrtError(f"{tarball}: expected one top-level directory, found {len(tops)}")
    return tops[0]


# HAProxy's Makefile passes every file the commit's version and date (-DCONFIG_HAPROXY_VERSION/DATE):
# direct mode, which hashes the flags, would miss on every file of every new commit; preprocessor mode
# hashes their effect, which only version.c, haproxy.c and the stats code see.
CCACHE_CONF = "direct_mode = false\n"


def ccache_dir() -> Path:
    """The host directory mounted at /ccache (the builder image's CCACHE_DIR), with its configuration."""
    d = cache_dir() / "ccache"
    d.mkdir(exist_ok=True)
    conf = d / "ccache.conf"
    if not conf.exists() or conf.read_text() != CCACHE_CONF:
        conf.write_text(CCACHE_CONF)
    return d


def _ccache_hits(log: str) -> str:
    m = HITS_RE.search(log)
    return f"{m.group(1)}/{m.group(2)}" if m else ""


def read_features(runtime: Runtime) -> Features:
    status, out = run_in_container(runtime.image, ["-vv"], runtime.mounts, 60, entrypoint=[runtime.exe])
    if status != 0:
        raise HrtError(f"{runtime.exe} in {runtime.image[:19]} -vv failed (exit {status}):\n{out[-2000:]}")
    return parse_vv(out)


def prebuilt(source: Source, profile: str, images: Images) -> Build:
    """bin:PATH — exactly that file, in the runtime image when it has every library the file links."""
    check_binary(source.binary)
    runtime = for_file(source.binary, images.runtime)
    _, ldd = run_in_container(images.runtime, [runtime.exe], runtime.mounts, 60, entrypoint=["ldd"])
    missing = missing_libraries(ldd)
    if missing:
        raise FeatureMissing(f"{source.binary} links libraries hrt's runtime image (Debian bookworm) lacks: "
                             f"{', '.join(missing)}; test it where they exist: image:REF (an image holding it) "
                             "or deb:VERSION for a Debian package")
    runtime = Runtime(runtime.image, runtime.exe, runtime.mounts, identity={"file": str(source.binary),
                                                                             "sha256": source.identity[7:]})
    return Build(source, profile, source.binary, read_features(runtime), runtime)


def build(source: Source, profile: str = "default", images: Images | None = None) -> Build:
    images = images or ensure_images()
    if source.binary:  # bin:PATH — nothing to build, features from -vv
        return prebuilt(source, profile, images)
    if source.spec.kind in ("deb", "image"):
        from .packaged import packaged_build
        return packaged_build(source, profile, images)
    key = build_key(source, profile, images.builder)
    root = cache_dir() / "builds"
    root.mkdir(exist_ok=True)
    out_dir = root / f"{source.version.replace('/', '_')}-{profile}-{key}"
    with FileLock(str(out_dir) + ".lock"):
        meta = out_dir / "build.json"
        if meta.exists():
            binary = out_dir / "haproxy"
            return Build(source, profile, binary, parse_vv((out_dir / "vv.txt").read_text()),
                         for_file(binary, images.runtime))
        return _build_fresh(source, profile, images, out_dir, key)


def _build_fresh(source: Source, profile: str, images: Images, out_dir: Path, key: str) -> Build:
    shutil.rmtree(out_dir, ignore_errors=True)
    work = out_dir.with_name(out_dir.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        tree = _safe_extract(source.tarball, work)
        makefile = (tree / "Makefile").read_text(errors="replace")
        missing = missing_options(profile, makefile)
        if missing:
            raise FeatureMissing(f"{source.version}: profile {profile} needs {', '.join(missing)}, "
                                 "which this tree's Makefile does not know")
        version = tree_version((tree / "VERSION").read_text() if (tree / "VERSION").exists() else source.version)
        args = make_args(profile, makefile, version)
        log_path = work / "build.log"
        cmd = ["make", f"-j{os.cpu_count() or 2}", *args]
        progress.note(f"building {source.version} ({profile}) in a container: {' '.join(cmd)}")
        with FileLock(str(cache_dir() / "builds" / "machine.lock")), \
                progress.spinner(f"build {source.version} [{profile}]") as update:
            # one build at a time per machine: each already uses every core (-j$(nproc))
            started = time.monotonic()
            status, _ = run_in_container(images.builder, ["sh", "-c", CCACHE_WRAP, "sh", *cmd],
                                         {tree: ("/src", "rw"), ccache_dir(): ("/ccache", "rw")}, BUILD_TIMEOUT,
                                         log_path=log_path, workdir="/src", on_line=update)
        seconds = time.monotonic() - started
        hits = _ccache_hits(log_path.read_text(errors="replace"))
        if status != 0 or not (tree / "haproxy").exists():
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
            failed = out_dir.with_name(out_dir.name + ".failed.log")
            shutil.copy(log_path, failed)
            raise BuildFailed(f"build of {source.version} ({profile}) failed with status {status}", str(failed), tail)
        staging = out_dir.with_name(out_dir.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        shutil.copy2(tree / "haproxy", staging / "haproxy")
        shutil.copy2(log_path, staging / "build.log")
        features = read_features(for_file(staging / "haproxy", images.runtime))
        (staging / "vv.txt").write_text(features.vv)
        (staging / "build.json").write_text(json.dumps({
            "identity": source.identity, "version": source.version, "commit": source.commit,
            "origin": source.origin, "profile": profile, "make": cmd, "builder_image": images.builder,
            "key": key, "seconds": round(seconds, 1), "ccache_hits": hits}, indent=1))
        staging.replace(out_dir)
        progress.note(f"built {features.version} ({profile}) in {seconds:.0f}s (ccache hits {hits or '?'}) "
                      f"-> {out_dir}/haproxy")
        binary = out_dir / "haproxy"
        return Build(source, profile, binary, features, for_file(binary, images.runtime), seconds, hits)
    finally:
        shutil.rmtree(work, ignore_errors=True)
