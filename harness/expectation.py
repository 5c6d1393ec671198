"""What the verdict should be for a build: from measured release ranges, or from git ancestry."""
from dataclasses import dataclass

from .case import Variant
from .sources import Source
from .spec import branch_of, release_of, upstream_release, version_key
from .verdict import Verdict

UNKNOWN = "unknown"   # nothing is expected: no verdict contradicts it


PACKAGED = ("deb", "image", "bin")   # what people deploy: the upstream version is a hint (backports)


@dataclass(frozen=True)
class Expectation:
    verdict: str      # a Verdict (untestable: the case says this build cannot be tested), or UNKNOWN
    why: str
    by_version: str = ""   # packaged builds: what the upstream version alone would say


def for_release(variant: Variant, version: str) -> Expectation:
    branch = branch_of(version)
    b = variant.branches.get(branch)
    if b is None:
        return Expectation(UNKNOWN, f"branch {branch} not measured for {variant.case.id}")
    if b.get("status") == "not-affected":
        return Expectation(Verdict.HELD, f"branch {branch} measured not affected")
    if b.get("status") == "untestable" or version in b.get("untestable", []):
        what = f"branch {branch}" if b.get("status") == "untestable" else version
        return Expectation(Verdict.UNTESTABLE,
                           f"{what} untestable on purpose: {b.get('evidence', '(no evidence given)')}")
    v = version_key(version)
    if "measured_from" in b and v < version_key(b["measured_from"]):
        return Expectation(UNKNOWN, f"{version} is below the measured range of {branch} (from {b['measured_from']})")
    if "affected_from" in b and v < version_key(b["affected_from"]):
        return Expectation(Verdict.HELD, f"{version} predates the first affected {b['affected_from']}")
    if "fixed_in" in b and v >= version_key(b["fixed_in"]):
        return Expectation(Verdict.HELD, f"{version} >= first fixed {b['fixed_in']}")
    return Expectation(Verdict.REPRODUCED, f"{version} in the measured affected range of {branch}"
                                           + (f" (fixed in {b['fixed_in']})" if "fixed_in" in b else " (no fix yet)"))


def for_commit(variant: Variant, source: Source) -> Expectation:
    """Affected iff it contains the introducing commit (when known) and none of the fixing commits."""
    if not variant.fix_commits and not variant.introduced_by:
        return Expectation(UNKNOWN, "the case (or variant) names no fixing or introducing commit")
    known = 0
    for fix in variant.fix_commits:  # backports live in other repositories: a missing one is not contained
        has = source.repo.is_ancestor(fix, source.commit)
        if has is None:
            continue
        known += 1
        if has:
            return Expectation(Verdict.HELD, f"contains fix {fix[:12]}")
    if variant.fix_commits and not known:
        return Expectation(UNKNOWN, f"{source.origin} knows none of the fix commits "
                                    f"({', '.join(f[:12] for f in variant.fix_commits)})")
    starts = ""
    if variant.introduced_by:
        has = {c: source.repo.is_ancestor(c, source.commit) for c in variant.introduced_by}
        if all(h is None for h in has.values()):
            return Expectation(UNKNOWN, f"{source.origin} knows none of the introducing commits "
                                        f"({', '.join(c[:12] for c in variant.introduced_by)})")
        starts = next((c for c, h in has.items() if h), "")
        if not starts:
            return Expectation(Verdict.HELD, "predates the introducing commit "
                                             + ", ".join(c[:12] for c, h in has.items() if h is not None))
    return Expectation(Verdict.REPRODUCED,
                       "lacks every fixing commit" + (f", contains {starts[:12]}" if starts else ""))


def expect(variant: Variant, source: Source, built_version: str) -> Expectation:
    if variant.expect:   # a control: constant, except on a branch where its premise does not hold
        b = variant.branches.get(branch_of(upstream_release(built_version) or built_version), {})
        if b.get("status") == "untestable":
            return Expectation(Verdict.UNTESTABLE, f"the control does not apply to {branch_of(built_version)}: "
                                                   f"{b.get('evidence', '(no evidence given)')}")
        return Expectation(Verdict(variant.expect), "fixed by the case (a control)")
    if source.spec.kind in PACKAGED:   # distributions backport fixes: the measured verdict decides
        release = upstream_release(built_version)
        hint = for_release(variant, release) if release else Expectation(UNKNOWN, "no upstream version")
        return Expectation(UNKNOWN, f"by version: {hint.verdict} ({hint.why}); packaged builds may carry "
                                    "backported fixes, so the measured verdict decides", hint.verdict)
    release = source.version if source.spec.kind == "release" else release_of(built_version)
    if release and release_of(release) and source.spec.kind != "git":
        return for_release(variant, release)
    if source.commit and source.repo is not None:
        return for_commit(variant, source)
    return Expectation(UNKNOWN, f"no release number or commit to judge {built_version} by")
