"""The outcome of `hrt check` for one variant: the one result type the runner writes (result.json) and the
report, JUnit, known bugs and `hrt test` read, with its domain checks and the --json contract."""
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import power as pw
from .paths import slug
from .stats import exposure_text, wilson, zero_hit_bound
from .verdict import DECIDED, Verdict


@dataclass
class RunOutcome:
    index: int
    verdict: Verdict
    reason: str
    seconds: float
    artifacts: str
    findings: list = field(default_factory=list)   # dicts from oracle Findings
    preconditions: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)


@dataclass
class CheckResult:
    case: str
    haproxy: str
    version: str
    commit: str | None
    profile: str
    expected: str                 # a decided Verdict, Verdict.UNTESTABLE, or "unknown"
    expected_why: str
    verdict: Verdict
    reason: str = ""
    runs: list = field(default_factory=list)       # RunOutcome
    seconds: float = 0.0
    evidence: list = field(default_factory=list)
    power_rate: pw.Rate | None = None       # the bad builds' measured rate (case.toml `rate`), if any
    power_target: float | None = None
    interrupted: bool = False     # Ctrl-C/SIGTERM ended the check: the runs it finished are kept
    by_version: str = ""          # packaged builds: the expectation from the upstream version alone
    identity: dict = field(default_factory=dict)   # what exactly ran: package version, image digest, file sha256

    @property
    def reproduced_runs(self) -> int:
        return sum(r.verdict == Verdict.REPRODUCED for r in self.runs)

    @property
    def counted_runs(self) -> int:
        return sum(r.verdict in DECIDED for r in self.runs)

    @property
    def rate(self) -> float | None:
        return self.reproduced_runs / self.counted_runs if self.counted_runs else None

    @property
    def matches(self) -> bool:
        """True unless the verdict contradicts a known expectation (untestable/unknown contradict nothing)."""
        return self.expected not in DECIDED or self.verdict not in DECIDED or self.verdict == self.expected

    @property
    def mismatch(self) -> str:
        if self.matches:
            return ""
        return "regression" if self.verdict == Verdict.REPRODUCED else "did not reproduce"

    @property
    def reading(self) -> str:
        """For a packaged HAProxy, what the verdict means next to its upstream version."""
        if not self.by_version:
            return ""
        if self.verdict == Verdict.REPRODUCED:
            return "affected"
        if self.verdict == Verdict.HELD:
            return "fix present (backported)" if self.by_version == Verdict.REPRODUCED else "not affected"
        return "could not test"

    @property
    def column(self) -> str:
        """The HAProxy it ran on, with its build profile unless the default (a column of the report)."""
        return self.haproxy if self.profile == "default" else f"{self.haproxy} [{self.profile}]"

    @property
    def anchor(self) -> str:
        """The id of its evidence section in the report."""
        return slug(f"{self.case}@{self.column}")

    @property
    def untested(self) -> bool:
        """Untestable where a verdict was expected: `--strict` (CI) fails it, so no cell goes green untested.
        A case that says a build is untestable on purpose expects "untestable", which is not this."""
        return self.verdict == Verdict.UNTESTABLE and self.expected in DECIDED

    def failure(self, strict: bool) -> str:
        """Why this result fails the run ("" when it does not): a harness or case error always does."""
        if self.verdict == Verdict.ERROR:
            return Verdict.ERROR
        return self.mismatch or ("untested" if strict and self.untested else "")

    def exposure(self) -> tuple[int, float] | None:
        """(crashes, seconds of load) over the counted runs whose scenario recorded notes["exposure_s"]
        (a probabilistic case's opt-in: seconds of load until the end of the run or the crash)."""
        runs = [r for r in self.runs if r.verdict in DECIDED and "exposure_s" in r.notes]
        if not runs:
            return None
        return sum(r.verdict == Verdict.REPRODUCED for r in runs), sum(float(r.notes["exposure_s"]) for r in runs)

    def bound_text(self) -> str:
        n = self.counted_runs
        if not n:
            return ""
        if self.reproduced_runs == 0:
            text = f"0/{n} runs: per-run rate < {zero_hit_bound(n):.2f} (95%)"
        else:
            lo, hi = wilson(self.reproduced_runs, n)
            text = f"{self.reproduced_runs}/{n} runs: rate {self.rate:.2f} (95% CI {lo:.2f}-{hi:.2f})"
        exposure = self.exposure()
        if not exposure:
            return text
        return f"{exposure_text(*exposure, self.exposure_events())}; {text}"

    def exposure_events(self) -> str:
        """The trigger path's own count over the counted runs, when the scenario records one
        (notes["exposure_count"] with notes["exposure_unit"], e.g. a task's calls from CLI profiling)."""
        runs = [r for r in self.runs if r.verdict in DECIDED and "exposure_count" in r.notes]
        if not runs:
            return ""
        return f"{sum(int(r.notes['exposure_count']) for r in runs):,} {runs[0].notes.get('exposure_unit', 'events')}"

    def power(self) -> float | None:
        """Chance that this check's measured exposure would have reproduced a bad build (a lower bound)."""
        if self.power_rate is None or not self.counted_runs:
            return None
        return self.power_rate.power(pw.reached(self.power_rate, self.runs))

    @property
    def weak(self) -> bool:
        """A held whose exposure fell short of its target power (never reported as a strong held)."""
        p = self.power()
        return self.verdict == Verdict.HELD and p is not None and p < (self.power_target or pw.DEFAULT_POWER)

    @property
    def verdict_text(self) -> str:
        return f"held (weak, power {_floor3(self.power())})" if self.weak else self.verdict

    def power_text(self) -> str:
        """"power 0.999 against 0.11/s (3.0.3: ...)"; "weak: ..." with the exposure reached and needed."""
        if self.power_rate is None:
            return "power unknown (no measured bad-build rate)"
        p, rate = self.power(), self.power_rate
        if p is None:
            return ""
        text = f"power {_floor3(p)} against {rate.text()}"
        if not self.weak:
            return text
        target = self.power_target or pw.DEFAULT_POWER
        got, need = pw.reached(rate, self.runs), rate.needed(target)
        return (f"weak: {text}, target {target}: {pw.exposure_text(rate, got)} of "
                f"{pw.exposure_text(rate, need)} reached")

    def to_json(self) -> dict:
        """Exactly the keys the README promises for --json (a contract with CI and users' scripts)."""
        return {"case": self.case, "haproxy": self.haproxy, "version": self.version, "commit": self.commit,
                "profile": self.profile, "expected": self.expected, "verdict": self.verdict,
                "runs": len(self.runs), "reproduced_runs": self.reproduced_runs,
                "rate": None if self.rate is None else round(self.rate, 4), "seconds": round(self.seconds, 1),
                "evidence": self.evidence}

    def full(self) -> dict:
        """Everything, for the result.json kept beside the evidence."""
        d = self.to_json()
        d.update(expected_why=self.expected_why, reason=self.reason, bound=self.bound_text(),
                 power=self.power(), power_target=self.power_target, power_weak=self.weak,
                 power_text=self.power_text() if self.verdict == Verdict.HELD else "",
                 power_rate=asdict(self.power_rate) if self.power_rate else None,
                 exposure_reached=pw.reached(self.power_rate, self.runs) if self.power_rate else None,
                 by_version=self.by_version, reading=self.reading, identity=self.identity,
                 interrupted=self.interrupted,
                 run_details=[asdict(r) for r in self.runs])
        return d

    def dump(self, path) -> None:
        """Atomically: a reader (or a concurrent check of the same cell) never sees half a file."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.full(), indent=1, default=str))
        tmp.replace(path)

    @classmethod
    def from_json(cls, d: dict) -> "CheckResult":
        """The inverse of full(): what full() derives (bound, power, reading) is computed again, and the keys
        an older hrt did not write take their defaults (the --json keys have always been there)."""
        rate = d.get("power_rate")
        return cls(d["case"], d["haproxy"], d["version"], d["commit"], d["profile"], _expected(d["expected"]),
                   d.get("expected_why", ""), Verdict(d["verdict"]), reason=d.get("reason", ""),
                   runs=[_known(RunOutcome, r, verdict=Verdict(r["verdict"])) for r in d.get("run_details", [])],
                   seconds=d["seconds"], evidence=d["evidence"],
                   power_rate=_known(pw.Rate, rate) if rate else None, power_target=d.get("power_target"),
                   interrupted=d.get("interrupted", False), by_version=_expected(d.get("by_version", "")),
                   identity=d.get("identity", {}))

    @classmethod
    def load(cls, path: Path) -> "CheckResult":
        return cls.from_json(json.loads(Path(path).read_text()))


def _expected(text: str) -> str:
    """An expected verdict as a Verdict; "unknown" (or "" for no by-version hint) stays as it is."""
    return Verdict(text) if text in set(Verdict) else text


def _known(cls, d: dict, **override):
    """A dataclass from a dict written by asdict(), ignoring keys another hrt version wrote."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names} | override)


def _floor3(p: float) -> str:
    """Power shown rounded down (0.9986 is not "0.999"), at most 3 decimals."""
    return f"{math.floor(p * 1000 + 1e-9) / 1000:g}"
