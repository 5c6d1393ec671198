"""`hrt range`: which releases of a branch a case reproduces on, i.e. "am I affected, what do I upgrade to?".

Like `git bisect` over a branch's releases instead of commits, assuming one contiguous affected interval:
the newest and the oldest release are checked first, then the two boundaries are bisected. The case's
own `[branches]` entry (the last measurement) is only a prior: its predicted boundaries are checked
first, which settles a confirmed interval in a few checks, and every answer rests on checked releases
alone (the first fixed release held, the one below it reproduced). A release that does not build, has
no reachable source or cannot reach the trigger is skipped and named, and a neighbour is tried.
"""
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

from . import progress
from .case import Variant, find
from .errors import CaseError, ChecksumMismatch, SourceUnavailable
from .spec import version_key
from .stats import zero_hit_bound
from .verdict import DECIDED, Verdict

LEFT = {"first affected": Verdict.HELD, "first fixed": Verdict.REPRODUCED}    # the verdict below each boundary
MEASURED = ("measured_from", "affected_from", "fixed_in", "status", "evidence")   # what --write owns
ROW = "  {version:<8} {role:<6} {build:<11} {build_s:>7} {runs:>5} {run_s:>6} {verdict:<10} {reason}"


@dataclass
class Step:
    """One checked release."""
    version: str
    verdict: Verdict                # DECIDED ones are counted; untestable and error are skipped
    runs: int = 0
    agreeing: int = 0               # runs whose verdict is the step's
    build: str = ""                 # fresh | cached | failed | no source
    build_s: float = 0.0            # wall time of getting the source and building (0 when reused)
    run_s: float = 0.0
    reason: str = ""
    role: str = ""                  # newest | oldest | probe | step

    @property
    def skip_reason(self) -> str:
        if self.build in ("failed", "no source"):
            return "build failed" if self.build == "failed" else "no source reachable"
        return " ".join(self.reason.split())[:80]


@dataclass
class RangeResult:
    variant: Variant
    branch: str
    releases: list                  # the branch's releases, oldest first
    steps: list = field(default_factory=list)   # in the order they were checked
    affected: bool | None = None    # None: the search could not conclude
    first_affected: str | None = None
    first_fixed: str | None = None
    measured_from: str | None = None   # the oldest release with a verdict, when not the branch's first
    seconds: float = 0.0
    why: str = ""                   # why the search could not conclude

    @property
    def bound(self) -> int:
        return math.ceil(math.log2(max(len(self.releases), 2))) + 3

    def step(self, version: str) -> Step | None:
        return next((s for s in self.steps if s.version == version), None)

    def skipped(self) -> list:
        return sorted((s for s in self.steps if s.verdict not in DECIDED), key=lambda s: version_key(s.version))

    def skipped_below(self, version: str) -> list:
        """Skipped releases just below version (down to the next checked one): the boundary may be any of them."""
        i = self.releases.index(version)
        out = []
        while i > 0 and (s := self.step(self.releases[i - 1])) is not None and s.verdict not in DECIDED:
            out.append(s.version)
            i -= 1
        return out[::-1]

    def answer(self) -> str:
        v = f"{self.variant.id} on {self.branch}"
        if self.affected is None:
            return f"{v}: undecided: {self.why}"
        if not self.affected:
            return (f"{v}: not affected: nothing reproduced on the {len(self.steps) - len(self.skipped())} "
                    f"release(s) checked (an interval strictly between them cannot be excluded)")
        first = self.releases[0]
        if self.first_affected == first:
            start = f"affected from the branch's first release {first}"
        elif self.measured_from and self.first_affected == self.measured_from:
            start = f"affected from {self.first_affected} at least (nothing older could be tested)"
        else:
            start = f"first affected {self.first_affected}"
        maybe = self.skipped_below(self.first_affected) if self.first_affected != first else []
        if maybe:
            start += f" (or one of the skipped {', '.join(maybe)})"
        if self.first_fixed:
            end = f"first fixed {self.first_fixed}: upgrade to {self.first_fixed} or later"
            maybe = self.skipped_below(self.first_fixed)
            if maybe:
                end += f" (the fix may already be in the skipped {', '.join(maybe)})"
        else:
            newest = max((s.version for s in self.steps if s.verdict in DECIDED), key=version_key)
            end = f"not fixed up to {newest}, the newest release checked"
        return f"{v}: {start}; {end}"

    def report(self) -> str:
        built = sum(s.build == "fresh" for s in self.steps)
        cached = sum(s.build == "cached" for s in self.steps)
        n = len(self.releases)
        lines = [self.answer(),
                 (f"  {len(self.steps)} checks ({len(self.skipped())} skipped) over {n} releases "
                  f"(bound ceil(log2 {n})+3 = {self.bound}); {built} built, {cached} from the cache; "
                  f"{int(self.seconds // 60)} min {self.seconds % 60:.0f} s"),
                 ROW.format(version="release", role="role", build="build", build_s="build s", runs="runs",
                            run_s="run s", verdict="verdict", reason="")]
        for s in self.steps:
            lines.append(ROW.format(**{**s.__dict__, "runs": f"{s.agreeing}/{s.runs}" if s.runs else "-",
                                       "reason": "" if s.verdict in DECIDED else s.skip_reason}).rstrip())
        if self.skipped():
            lines.append("  skipped: " + "; ".join(f"{s.version} ({s.skip_reason})" for s in self.skipped()))
        warning = self.uncertainty()
        if warning:
            lines.append(warning)
        return "\n".join(lines)

    def uncertainty(self) -> str:
        """A probabilistic case's 'held' is an absence of evidence: say how much the answer rests on it."""
        held = [s for s in self.steps if s.verdict == Verdict.HELD]
        if not (self.variant.case.probabilistic and held):
            return ""
        n = min(s.runs for s in held)
        return (f"WARNING: {self.variant.case.id} is probabilistic: {len(held)} release(s) counted as held on as "
                f"few as {n} run(s) without a reproduction (per-run rate < {zero_hit_bound(n):.2f} at 95%); a "
                f"missed reproduction would make the first fixed release look earlier (or the first affected "
                f"later) than the truth. Confirm the boundary releases with more --runs.")

    def entry(self) -> dict | None:
        """The measured `[branches."X.Y"]` entry (None when the search did not conclude)."""
        if self.affected is None:
            return None
        out = {}
        if self.measured_from:
            out["measured_from"] = self.measured_from
        if not self.affected:
            out["status"] = "not-affected"
        else:
            if self.first_affected != self.releases[0] and self.first_affected != self.measured_from:
                out["affected_from"] = self.first_affected
            if self.first_fixed:
                out["fixed_in"] = self.first_fixed
        counted = sorted((s for s in self.steps if s.verdict in DECIDED), key=lambda s: version_key(s.version))
        line = ", ".join(f"{s.version} {s.verdict} {s.agreeing}/{s.runs}" for s in counted)
        if self.skipped():
            line += "; skipped: " + ", ".join(f"{s.version} ({s.skip_reason})" for s in self.skipped())
        name = f" {self.variant.name}" if len(self.variant.case.variants) > 1 else ""
        out["evidence"] = f"hrt range{name} {time.strftime('%Y-%m-%d')}: {line}"
        return out


class _Search:
    """The search over releases (oldest first) with a checker release -> Step; remembers every step."""

    def __init__(self, result: RangeResult, check: Callable[[str], Step]):
        self.result, self.check = result, check
        self.seen: dict[int, Step] = {}

    def verdict(self, i: int, role: str) -> Verdict:
        if i not in self.seen:
            progress.note(f"range {self.result.branch}: checking {self.result.releases[i]} ({role})")
            s = self.check(self.result.releases[i])
            s.role = role
            self.seen[i] = s
            self.result.steps.append(s)
            progress.note(f"range {self.result.branch}: {s.version} {s.verdict}")
        return self.seen[i].verdict

    def first_testable(self, order, role: str) -> int | None:
        return next((i for i in order if self.verdict(i, role) in DECIDED), None)

    def boundary(self, left: int, right: int, which: str, prior: int | None) -> int:
        """The first release on right's side, between left and right (known to differ); the prior's
        predicted boundary and the release below it are tried first, then the middle of what is left."""
        queue = [] if prior is None else [prior, prior - 1]
        while True:
            inside = [(i, self.seen[i].verdict) for i in range(left + 1, right) if i in self.seen]
            left = max([i for i, v in inside if v == LEFT[which]], default=left)   # probes already checked
            right = min([i for i, v in inside if v in DECIDED and v != LEFT[which]], default=right)
            open_ = [i for i in range(left + 1, right) if i not in self.seen]
            if not open_:
                return right
            pick = next((q for q in queue if q in open_), None)
            queue = queue[queue.index(pick) + 1:] if pick is not None else []
            if pick is None:
                mid = (left + right) / 2
                pick = min(open_, key=lambda i: (abs(i - mid), i))
            v = self.verdict(pick, "step")
            if v == LEFT[which]:
                left = pick
            elif v in DECIDED:
                right = pick


def _index(releases: list, version: str | None) -> int | None:
    return releases.index(version) if version in releases else None


def search(variant: Variant, branch: str, releases: list, check: Callable[[str], Step]) -> RangeResult:
    """The affected interval of `releases` (oldest first) as measured by `check`."""
    started = time.monotonic()
    r = RangeResult(variant, branch, list(releases))
    prior = variant.branches.get(branch, {})
    if prior.get("status") in ("not-affected", "untestable"):
        prior = {}
    p_first = _index(r.releases, prior.get("affected_from") or prior.get("measured_from"))
    p_fixed = _index(r.releases, prior.get("fixed_in"))
    s = _Search(r, check)
    n = len(r.releases)
    hi = s.first_testable(range(n - 1, -1, -1), "newest")
    lo = s.first_testable(range(hi), "oldest") if hi is not None else None
    if lo is None:
        r.why = "fewer than two releases of the branch could be tested"
    else:
        r.measured_from = r.releases[lo] if lo else None
        anchor = next((i for i in (lo, hi) if s.seen[i].verdict == Verdict.REPRODUCED), None)
        if anchor is None:   # both ends held: probe where the prior puts the interval, then the middle
            last = None if p_fixed is None else p_fixed - 1
            probes = [p_first, last, None if None in (p_first, last) else (p_first + last) // 2, (lo + hi) // 2]
            anchor = next((i for i in probes if i is not None and lo < i < hi
                           and s.verdict(i, "probe") == Verdict.REPRODUCED), None)
        r.affected = anchor is not None
        if anchor is not None:
            first = anchor if anchor == lo else s.boundary(lo, anchor, "first affected", p_first)
            r.first_affected = r.releases[first]
            if s.seen[hi].verdict == Verdict.HELD:
                r.first_fixed = r.releases[s.boundary(first, hi, "first fixed", p_fixed)]
    r.seconds = time.monotonic() - started
    return r


def pick_variant(case_sel: str) -> Variant:
    """CASE/VARIANT, or CASE when it has exactly one variant without a constant `expect` (not a control)."""
    variants = find(case_sel)
    if "/" not in case_sel:
        variants = [v for v in variants if not v.expect]
    if len(variants) != 1:
        raise CaseError(f"range needs one variant (CASE/VARIANT): {' or '.join(v.id for v in variants) or 'none'} "
                        f"of {case_sel} can be searched")
    return variants[0]


def check_release(variant: Variant, version: str, runs: int | None, profile: str | None, images) -> Step:
    """Build (or reuse) one release and run the case on it: one step's record."""
    from .runner import check, check_error, prepare
    prof = profile or variant.profile
    started = time.monotonic()
    try:
        prepared = prepare(version, prof, images)
    except (SourceUnavailable, ChecksumMismatch) as exc:   # skipped like a build that fails
        check_error(variant, version, prof, exc, time.monotonic() - started)   # kept for `hrt report`
        return Step(version, Verdict.UNTESTABLE, build="no source", build_s=round(time.monotonic() - started, 1),
                    reason=str(exc))
    build_s = time.monotonic() - started
    b = prepared[1]
    res = check(variant, version, runs=runs, profile=prof, images=images, prepared=prepared)
    return Step(version, res.verdict, runs=len(res.runs), agreeing=sum(x.verdict == res.verdict for x in res.runs),
                build="failed" if b is None else ("fresh" if b.seconds else "cached"),
                build_s=round(build_s, 1), run_s=round(sum(x.seconds for x in res.runs), 1), reason=res.reason)


def run_range(variant: Variant, branch: str, runs: int | None = None, profile: str | None = None) -> RangeResult:
    from .catalog import ReleaseIndex
    from .images import ensure_images
    releases = [x.version for x in ReleaseIndex.load([branch]).releases(branch)][::-1]
    if not releases:
        raise CaseError(f"no releases of branch {branch} in the release index")
    images = ensure_images()
    return search(variant, branch, releases, lambda v: check_release(variant, v, runs, profile, images))


def write_entry(variant: Variant, branch: str, entry: dict) -> Path:
    """Replace the measured keys of the branch's table in the case's case.toml with entry (other keys and the
    rest of the file as they were): the variant's own `[variants.V.branches."X.Y"]` when the variant has its
    own branches, else the case's."""
    path = variant.case.path / "case.toml"
    doc = tomlkit.parse(path.read_text())
    own = doc.get("variants", {}).get(variant.name, {}) if variant.name else {}
    if "branches" in own:
        parent = own["branches"]
    else:
        if "branches" not in doc:
            doc.add(tomlkit.nl())
            doc["branches"] = tomlkit.table(is_super_table=True)
        parent = doc["branches"]
    kept = {k: v for k, v in parent.get(branch, {}).items() if k not in MEASURED}   # e.g. `untestable`
    table = tomlkit.inline_table() if isinstance(parent, tomlkit.items.InlineTable) else tomlkit.table()
    table.update({k: v for k, v in entry.items() if k != "evidence"} | kept | {"evidence": entry["evidence"]})
    parent[branch] = table
    path.write_text(tomlkit.dumps(doc))
    return path
