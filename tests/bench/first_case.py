"""Benchmark (not a test): seconds from `hrt check` starting to its first case run starting, per SPEC form.

    python tests/bench/first_case.py --rounds 3 3.0.11 deb:2.6.12-1+deb12u4 image:REF
    python tests/bench/first_case.py --cold ...   # each round first drops the deb image / image sysroot

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

from harness.dockerenv import client
from harness.packaged import package_tag
from harness.paths import cache_dir

CASE = "canary-crash/no-crash"


def make_cold(spec: str, runtime_image: str) -> None:
    """Drop what makes a deb:/image: SPEC warm (the package image; the image's exported sysroot)."""
    if spec.startswith("deb:"):
        for image in client().images.list(name="hrt/deb-haproxy"):
            if any(t == package_tag(spec[4:], runtime_image) for t in image.tags):
                client().images.remove(image.id, force=True)
    elif spec.startswith("image:"):
        image_id = client().images.get(spec[6:].split("#")[0]).id
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
    runtime = ensure_images().runtime
    times = {s: [] for s in args.specs}
    loads = []
    for _ in range(args.rounds):
        for spec in args.specs:
            if args.cold:
                make_cold(spec, runtime)
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
