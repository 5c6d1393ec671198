"""Benchmark (not a test): seconds from `hrt check` starting to its first case run starting, per SPEC form.

    python tests/bench/first_case.py --rounds 3 3.0.11 deb:2.6.12-1+deb12u4 image:REF
    python tests/bench/first_case.py --cold ...   # each round first drops the deb images / image sysroot
    HRT_UBUNTU_MIRROR=http://archive.ubuntu.com/ubuntu python tests/bench/first_case.py 3.0.11 deb:noble

Rounds alternate the SPECs (A B C A B C ...) so a drifting machine load spreads over all of them; the
median is printed with min/max and the load average, since only ratios travel between machines.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

from harness.dockerenv import LABEL, client
from harness.paths import cache_dir

CASE = "canary-crash/no-crash"


def make_cold(spec: str) -> None:
    """Drop what makes a deb:/image: SPEC warm: every package image (with the filesystem an Ubuntu one was
    exported to for gdb), or the image's exported sysroot."""
    if spec.startswith("deb:"):
        for image in client().images.list(filters={"label": f"{LABEL}=deb"}):
            _drop_sysroot(image.id)
            client().images.remove(image.id, force=True)
    elif spec.startswith("image:"):
        _drop_sysroot(client().images.get(spec[6:].split("#")[0]).id)


def _drop_sysroot(image_id: str) -> None:
    root = cache_dir() / "sysroots" / image_id.split(":")[-1][:16]
    shutil.rmtree(root, ignore_errors=True)
    root.with_suffix(".done").unlink(missing_ok=True)


def first_case_seconds(spec: str) -> float:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "check", CASE, "--haproxy", spec],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = None
    for line in proc.stderr:
        if seconds is None and "run 1/" in line:
            seconds = time.monotonic() - started
    proc.wait(timeout=300)
    if seconds is None:
        raise SystemExit(f"{spec}: no case started (exit {proc.returncode})")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold", action="store_true")
    args = ap.parse_args()
    from harness.images import ensure_images
    ensure_images()
    times = {s: [] for s in args.specs}
    loads = []
    for _ in range(args.rounds):
        for spec in args.specs:
            if args.cold:
                make_cold(spec)
            loads.append(os.getloadavg()[0])
            times[spec].append(first_case_seconds(spec))
    base = statistics.median(times[args.specs[0]])
    for spec, ts in times.items():
        med = statistics.median(ts)
        print(f"{spec:45s} median {med:6.2f} s (min {min(ts):.2f}, max {max(ts):.2f})  x{med / base:.2f} of "
              f"{args.specs[0]}")
    print(f"{'cold' if args.cold else 'warm'}; load average {min(loads):.1f}-{max(loads):.1f}; {args.rounds} rounds")


if __name__ == "__main__":
    main()
