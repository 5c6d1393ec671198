"""What the verdict should be for a build: from measured release ranges, or from git ancestry."""
import re
from dataclasses import dataclass

from .case import Variant
from .sources import Source
from .spec import version_key

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Expectation:
    verdict: str      # "reproduced" | "held" | "unknown"
    why: str


def release_of(version: str) -> str | None:
    """X.Y.Z when the build is a release (3.0.11 or 3.0.11-9e587df), else None (dev builds)."""
    m = re.match(r"^(\d+\.\d+\.\d+)(?:-[0-9a-f]{6,}(?:-\d+)?)?$", version)
    return m.group(1) if m else None


def for_release(variant: Variant, version: str) -> Expectation:
    branch = ".".join(version.split(".")[:2])
    b = variant.case.branches.get(branch)
    if b is None:
        return Expectation(UNKNOWN, f"branch {branch} not measured for {variant.case.id}")
    if b.get("status") == "not-affected":
        return Expectation("held", f"branch {branch} measured not affected")
    v = version_key(version)
    if "measured_from" in b and v < version_key(b["measured_from"]):
        return Expectation(UNKNOWN, f"{version} is below the measured range of {branch} (from {b['measured_from']})")
    if "affected_from" in b and v < version_key(b["affected_from"]):
        return Expectation("held", f"{version} predates the first affected {b['affected_from']}")
    if "fixed_in" in b and v >= version_key(b["fixed_in"]):
        return Expectation("held", f"{version} >= first fixed {b['fixed_in']}")
    return Expectation("reproduced", f"{version} in the measured affected range of {branch}"
                                     + (f" (fixed in {b['fixed_in']})" if "fixed_in" in b else " (no fix yet)"))


def for_commit(variant: Variant, source: Source) -> Expectation:
    """Affected iff it contains the introducing commit (when known) and none of the fixing commits."""
    case = variant.case
    if not case.fix_commits and not case.introduced_by:
        return Expectation(UNKNOWN, "the case names no fixing or introducing commit")
    known = 0
    for fix in case.fix_commits:  # backports live in other repositories: a missing one is not contained
        has = source.repo.is_ancestor(fix, source.commit)
        if has is None:
            continue
        known += 1
        if has:
            return Expectation("held", f"contains fix {fix[:12]}")
    if case.fix_commits and not known:
        return Expectation(UNKNOWN, f"{source.origin} knows none of the fix commits "
                                    f"({', '.join(f[:12] for f in case.fix_commits)})")
    if case.introduced_by:
        has = source.repo.is_ancestor(case.introduced_by, source.commit)
        if has is None:
            return Expectation(UNKNOWN, f"{source.origin} does not know introducing commit {case.introduced_by}")
        if not has:
            return Expectation("held", f"predates introducing commit {case.introduced_by[:12]}")
    return Expectation("reproduced", "lacks every fixing commit" +
                       (f", contains {case.introduced_by[:12]}" if case.introduced_by else ""))


def expect(variant: Variant, source: Source, built_version: str) -> Expectation:
    if variant.expect:
        return Expectation(variant.expect, "fixed by the case (a control)")
    release = source.version if source.spec.kind == "release" else release_of(built_version)
    if release and release_of(release) and source.spec.kind != "git":
        return for_release(variant, release)
    if source.commit and source.repo is not None:
        return for_commit(variant, source)
    return Expectation(UNKNOWN, f"no release number or commit to judge {built_version} by")
