"""Statistics of probabilistic cases with known inputs: exposure bounds and exact Poisson intervals,
the reporting in CheckResult, the decision rule (one reproduction = reproduced; a held verdict states
its bound), the pair test."""
import math

import pytest

from harness.result import CheckResult, RunOutcome
from harness.runner import _summarise
from harness.stats import exposure_text, fisher_exact, poisson_interval, rate_bound


# --- bounds and intervals ---------------------------------------------------------------------------
def test_zero_crash_bound_is_rule_of_three():
    assert rate_bound(100) == pytest.approx(-math.log(0.05) / 100)      # 0.02996/s
    assert rate_bound(100) == pytest.approx(3 / 100, rel=0.002)
    assert rate_bound(360) == pytest.approx(0.008322, abs=1e-6)


@pytest.mark.parametrize("k,lo,hi", [      # Garwood's exact 95% limits on a Poisson mean (tables)
    (0, 0.0, 3.6889),
    (1, 0.02532, 5.5716),
    (2, 0.2422, 7.2247),
    (3, 0.6187, 8.7673),
    (5, 1.6235, 11.6683),
    (10, 4.7954, 18.3904),
])
def test_poisson_interval_known_values(k, lo, hi):
    got_lo, got_hi = poisson_interval(k, 1.0)
    assert got_lo == pytest.approx(lo, abs=2e-4)
    assert got_hi == pytest.approx(hi, abs=2e-4)


def test_poisson_interval_scales_with_exposure_and_holds_the_estimate():
    lo, hi = poisson_interval(5, 109.0)     # the research's bad build: 5 crashes in 109 s of load
    assert lo == pytest.approx(0.0149, abs=1e-4) and hi == pytest.approx(0.1070, abs=1e-4)
    assert lo < 5 / 109 < hi
    assert poisson_interval(3, 0) == (0.0, math.inf)


def test_exposure_text():
    assert exposure_text(0, 360) == "0 crashes in 360 s of load: rate < 0.00832/s (95%)"
    assert exposure_text(5, 109) == "5 crashes in 109 s of load: rate 0.0459/s (95% CI 0.0149-0.107)"
    assert exposure_text(1, 20).startswith("1 crash in 20 s of load: rate 0.05/s")


def test_good_build_bound_below_bad_lower_limit():
    """The held rule of the case file: the good build's zero-crash bound must fall below the bad
    build's lower 95% limit (then 'at least that much rarer' is supported, not 'absent')."""
    bad_lo = poisson_interval(5, 109)[0]
    assert rate_bound(360) < bad_lo            # 4 x 90 s clean: 0.0083/s < 0.0149/s
    assert not rate_bound(100) < bad_lo        # one 100 s run is not enough for that claim


def test_pair_fisher():
    assert fisher_exact(5, 5, 0, 4) == pytest.approx(1 / 126)      # 5/5 vs 0/4: p = 0.0079
    assert fisher_exact(4, 5, 0, 5) == pytest.approx(0.0476, abs=1e-4)
    assert fisher_exact(1, 5, 0, 5) == pytest.approx(1.0)         # one crash alone separates nothing


# --- reporting and the decision rule ---------------------------------------------------------------
def outcome(i, verdict, exposure=None):
    notes = {} if exposure is None else {"exposure_s": exposure}
    return RunOutcome(i, verdict, f"run {i} {verdict}", 1.0, f"/r/run{i}", notes=notes)


def result(*runs):
    return CheckResult(case="sticktable-race-2.9", haproxy="git:repo@5fc1afb34", version="3.0-dev6",
                       commit="5fc1afb34", profile="default", expected="held", expected_why="contains fix",
                       verdict="untestable", runs=list(runs))


def test_exposure_sums_counted_runs_only():
    r = result(outcome(1, "held", 100.0), outcome(2, "untestable", 50.0), outcome(3, "held", 90.5))
    assert r.exposure() == (0, 190.5)
    assert r.bound_text().startswith("0 crashes in 190 s of load: rate < 0.0157/s (95%); 0/2 runs")


def test_exposure_counts_time_to_crash():
    r = result(outcome(1, "reproduced", 12.0), outcome(2, "held", 100.0))
    assert r.exposure() == (1, 112.0)
    assert r.bound_text().startswith("1 crash in 112 s of load: rate 0.00893/s")


def test_bound_text_unchanged_without_exposure_notes():
    r = result(outcome(1, "held"), outcome(2, "held"))
    assert r.exposure() is None
    assert r.bound_text() == "0/2 runs: per-run rate < 0.78 (95%)"


def test_decision_one_reproduction_is_enough():
    r = result(outcome(1, "held", 100.0), outcome(2, "reproduced", 7.0), outcome(3, "held", 100.0))
    _summarise(r)
    assert r.verdict == "reproduced" and r.reason == "run 2 reproduced"
    assert r.reproduced_runs == 1 and r.counted_runs == 3


def test_decision_held_states_its_bound():
    r = result(outcome(1, "held", 100.0), outcome(2, "held", 100.0))
    _summarise(r)
    assert r.verdict == "held"
    assert r.reason.startswith("0 crashes in 200 s of load: rate < 0.015/s (95%)")


def test_decision_untestable_never_held():
    r = result(outcome(1, "untestable", 100.0), outcome(2, "untestable", 30.0))
    _summarise(r)
    assert r.verdict == "untestable" and r.exposure() is None and r.bound_text() == ""

