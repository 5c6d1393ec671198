"""Interleaved checks of one probabilistic case on two builds (A B A B ...): both sides see the same
stretch of machine load. A fixed number of rounds, never retried until green, every invocation counted;
then the pair's statistics (harness/stats.py): per-invocation Fisher exact test, and per second of load
the exact rate comparison, each side's rate with its 95% interval or zero-crash bound."""
import os
from dataclasses import dataclass, field

from . import progress
from .result import CheckResult
from .stats import fisher_exact, poisson_interval, rate_bound, rate_comparison
from .verdict import DECIDED, Verdict


@dataclass
class Side:
    spec: str
    results: list = field(default_factory=list)      # CheckResult, one per invocation
    loads: list = field(default_factory=list)        # 1-min load average before each invocation

    def counted(self) -> list[CheckResult]:
        return [r for r in self.results if r.verdict in DECIDED]

    def summary(self) -> dict:
        counted = self.counted()
        k = sum(r.verdict == Verdict.REPRODUCED for r in counted)
        exposures = [r.exposure() for r in counted]
        seconds = sum(e[1] for e in exposures if e) if all(exposures) and exposures else None
        out = {"spec": self.spec, "version": next((r.version for r in self.results if r.version), ""),
               "invocations": len(self.results), "counted": len(counted), "reproduced": k,
               "untestable": len(self.results) - len(counted),
               "load_avg": [min(self.loads, default=0), max(self.loads, default=0)]}
        if seconds:
            lo, hi = poisson_interval(k, seconds) if k else (0.0, rate_bound(seconds))
            out.update(exposure_s=round(seconds, 1), rate_per_s=round(k / seconds, 5),
                       rate_95=[round(lo, 5), round(hi, 5)])
        return out


def interleave(variant, spec_a: str, spec_b: str, rounds: int, runs: int | None = None,
               on_result=None) -> tuple[Side, Side]:
    """`rounds` × (check A, check B), in that order; on_result(side, result, load) after each."""
    from .images import ensure_images
    from .runner import check, prepare
    images = ensure_images()
    sides = (Side(spec_a), Side(spec_b))
    prepared = {s.spec: prepare(s.spec, variant.profile, images) for s in sides}
    for i in range(1, rounds + 1):
        for side in sides:
            progress.note(f"pair round {i}/{rounds}: {variant.id} on {side.spec}")
            load = round(os.getloadavg()[0], 2)
            r = check(variant, side.spec, runs=runs, images=images, prepared=prepared[side.spec])
            side.results.append(r)
            side.loads.append(load)
            if on_result:
                on_result(side, r, load)
    return sides


def compare(a: Side, b: Side) -> dict:
    """Both sides' summaries and whether they differ (two-sided, 5%)."""
    sa, sb = a.summary(), b.summary()
    out = {"a": sa, "b": sb,
           "fisher_p": fisher_exact(sa["reproduced"], sa["counted"], sb["reproduced"], sb["counted"])}
    if "exposure_s" in sa and "exposure_s" in sb:
        out["rate_p"] = rate_comparison(sa["reproduced"], sa["exposure_s"], sb["reproduced"], sb["exposure_s"])
        # the held side's zero-crash bound below the other side's lower 95% limit
        out["b_bound_below_a_lower"] = sb["reproduced"] == 0 and sb["rate_95"][1] < sa["rate_95"][0]
    out["significant"] = min(out["fisher_p"], out.get("rate_p", 1.0)) < 0.05
    return out
