"""Power: how likely a `held` was to catch the bug, against the bad builds' measured reproduction rate.

A case records that rate as the LOWER 95% bound of its measured runs (Wilson for k/n runs, Garwood for
k events in T seconds or units), so every power stated here is a lower bound as well. From it follows the
exposure a target power needs: n runs with 1 - (1 - p)^n >= power, or T seconds / units of work with
1 - exp(-rate * T) >= power (a Poisson process). The power of a held check is then computed from the
exposure its runs actually reached, never from the plan."""
import math
from dataclasses import dataclass

from .errors import HrtError
from .stats import poisson_interval, wilson
from .verdict import DECIDED

DEFAULT_POWER = 0.999
EPS = 1e-9      # ceil() of a float that is an integer but for rounding


def runs_needed(p: float, power: float) -> int:
    """Runs of a per-run trigger with probability >= p that reach `power` (n = ln(1-power)/ln(1-p))."""
    if p >= 1:
        return 1
    if p <= 0:
        raise ValueError("a per-run rate of 0 reaches no power")
    return max(1, math.ceil(math.log(1 - power) / math.log(1 - p) - EPS))


def exposure_needed(rate: float, power: float) -> float:
    """Seconds (or units) of a Poisson trigger of at least `rate` per second (unit) that reach `power`."""
    if rate <= 0:
        raise ValueError("a rate of 0 reaches no power")
    return -math.log(1 - power) / rate


def runs_power(p: float, n: int) -> float:
    return 1 - (1 - p) ** n if n > 0 else 0.0


def exposure_power(rate: float, exposure: float) -> float:
    return 1 - math.exp(-rate * exposure) if exposure > 0 else 0.0


def lower95_runs(k: int, n: int) -> float:
    """Per-run rate's lower 95% bound from k reproductions in n runs (Wilson)."""
    return wilson(k, n)[0]


def lower95_poisson(k: int, exposure: float) -> float:
    """Rate's lower 95% bound from k events in `exposure` seconds or units (Garwood, exact)."""
    return poisson_interval(k, exposure)[0]


@dataclass(frozen=True)
class Rate:
    """A case's (or variant's) `rate` table in case.toml."""
    per: str                  # "run", "second", or a unit of work the scenario counts (notes["exposure_unit"])
    lower95: float
    evidence: str
    param: str = ""           # the scenario param that sets one run's exposure (seconds or units)
    target: float | None = None   # the power the case can honestly reach when DEFAULT_POWER is out of reach
    why: str = ""                 # ... and why
    model: str = ""           # "binomial" (a probability per run / per unit) or "poisson" (events per s / unit)

    @property
    def per_run(self) -> bool:
        return self.per == "run"

    @property
    def binomial(self) -> bool:
        """Per run always; per unit when each unit is its own trial (e.g. a connection that reached the trigger)."""
        return self.per_run or self.model == "binomial"

    def needed(self, power: float) -> float:
        return runs_needed(self.lower95, power) if self.binomial else exposure_needed(self.lower95, power)

    def power(self, exposure: float) -> float:
        return runs_power(self.lower95, int(exposure)) if self.binomial else exposure_power(self.lower95, exposure)

    def text(self) -> str:
        unit = {"run": " per run", "second": "/s"}.get(self.per, f" per {self.per.rstrip('s')}")
        return f"{self.lower95:.3g}{unit} ({self.evidence})"


@dataclass
class Plan:
    """How a check is run: `runs` runs with `params` overriding the variant's, each bounded by `timeout`."""
    runs: int
    params: dict
    timeout: float
    target: float | None      # None: no rate (fixed exposure, power unknown)
    fixed: bool               # --runs N: every run, no early stop


def plan(variant, runs: int | None, power: float | None) -> Plan:
    """The exposure the variant's rate needs for the target power (the case's own target when it has one
    and none was asked for). Per second, one run whose `param` is the seconds needed (its timeout grows
    by as much); per unit, one run of that many units; per run, that many runs. `runs` fixes the count."""
    if power is not None and not 0 < power < 1:
        raise HrtError(f"--power expects a probability between 0 and 1 (exclusive), got {power}")
    rate = variant.rate
    target = None if rate is None else power or rate.target or DEFAULT_POWER
    if runs or rate is None:
        return Plan(runs or variant.runs, {}, variant.timeout, target, bool(runs))
    if rate.per_run:
        return Plan(rate.needed(target), {}, variant.timeout, target, False)
    if rate.per == "second":
        seconds = math.ceil(rate.needed(target) - EPS) + 1   # +1: measured exposure lands just past a whole second
        extra = max(0.0, seconds - float(variant.params.get(rate.param, 0)))
        return Plan(1, {rate.param: seconds}, variant.timeout + extra, target, False)
    return Plan(1, {rate.param: math.ceil(rate.needed(target) - EPS)}, variant.timeout, target, False)


def reached(rate: Rate, runs: list) -> float:
    """Exposure reached by the counted runs (reproduced or held), as measured: runs counted, seconds from
    notes["exposure_s"], units from notes["exposure_count"] whose notes["exposure_unit"] is the rate's."""
    counted = [r for r in runs if r.verdict in DECIDED]
    if rate.per_run:
        return float(len(counted))
    if rate.per == "second":
        return sum(float(r.notes.get("exposure_s", 0)) for r in counted)
    return sum(float(r.notes.get("exposure_count", 0)) for r in counted if r.notes.get("exposure_unit") == rate.per)


def exposure_text(rate: Rate, amount: float) -> str:
    if rate.per_run:
        return f"{amount:.0f} run{'s' if amount != 1 else ''}"
    return f"{amount:.0f} s" if rate.per == "second" else f"{amount:,.0f} {rate.per}"
