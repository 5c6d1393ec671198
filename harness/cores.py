"""Where the kernel puts core dumps, and whether they can reach a container's work dir.

`kernel.core_pattern` is global to the host, not per container: a pipe (`|/usr/share/apport/apport ...`,
`|/usr/lib/systemd/systemd-coredump ...`, GitHub's runners) hands every core to the host's crash
handler, and an absolute path writes it into a host-side path of the crashing process's mount namespace.
Only a relative pattern (`core`) leaves the core in the crashing process's cwd: HAProxy's work dir, which
the harness keeps as evidence. HAProxy's own CI sets the pattern and `fs.suid_dumpable` for the same reason.
"""
import os
from dataclasses import dataclass
from pathlib import Path

PATTERN = Path("/proc/sys/kernel/core_pattern")
SUID_DUMPABLE = Path("/proc/sys/fs/suid_dumpable")
WANTED_PATTERN = "core"
# 1 ("debug"): a process that changed credentials still dumps; 2 would require an absolute or pipe pattern
WANTED_SUID_DUMPABLE = "1"


def core_pattern() -> str:
    try:
        return PATTERN.read_text().strip()
    except OSError:
        return ""


def reaches_container(pattern: str) -> bool:
    return bool(pattern) and not pattern.startswith(("|", "/"))


def why_lost(pattern: str) -> str:
    """Why no core reached the work dir, or "" when the pattern is not the reason."""
    if reaches_container(pattern):
        return ""
    where = "a pipe to the host's crash handler" if pattern.startswith("|") else "an absolute host path"
    return (f"kernel.core_pattern is {pattern!r} ({where}): cores never reach the container's work dir; "
            f"fix: {FIX_COMMAND}")


FIX_COMMAND = f"sudo sysctl -w kernel.core_pattern={WANTED_PATTERN} fs.suid_dumpable={WANTED_SUID_DUMPABLE}"


@dataclass(frozen=True)
class CoreSetup:
    ok: bool
    message: str


def ensure(fix: bool | None = None) -> CoreSetup:
    """Check the host's core settings; as root (or fix=True) set a relative pattern and say what changed."""
    pattern = core_pattern()
    if reaches_container(pattern):
        return CoreSetup(True, f"ok: kernel.core_pattern is {pattern!r}: cores land in HAProxy's work dir")
    if fix is None:
        fix = os.geteuid() == 0
    if not fix:
        return CoreSetup(False, why_lost(pattern) + " (as root `make setup` does it)")
    try:
        PATTERN.write_text(WANTED_PATTERN + "\n")
        SUID_DUMPABLE.write_text(WANTED_SUID_DUMPABLE + "\n")
    except OSError as exc:
        return CoreSetup(False, f"{why_lost(pattern)} (setting it failed: {exc})")
    return CoreSetup(True, f"kernel.core_pattern was {pattern!r}, cores would never reach a container: set it to "
                           f"{WANTED_PATTERN!r} and fs.suid_dumpable to {WANTED_SUID_DUMPABLE} "
                           f"(host-wide; restore with: sysctl -w kernel.core_pattern='{pattern}')")
