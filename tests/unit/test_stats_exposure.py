"""Statistics of probabilistic cases with known inputs: exposure bounds and exact Poisson intervals,
the reporting in CheckResult, the decision rule (one reproduction = reproduced; a held verdict states
its bound), the pair tests (Fisher, rate comparison, interleaved pairs), and the sticktable-race-2.9
scenario's parsers (profiling, death, DEBUG)."""
import math

import pytest

from harness.case import load_case
from harness.paths import CASES_DIR
from harness.result import CheckResult, RunOutcome
from harness.runner import _summarise
from harness.pair import Side, compare
from harness.stats import exposure_text, fisher_exact, poisson_interval, rate_bound, rate_comparison


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


def test_rate_comparison_known_values():
    # 5 crashes in 109 s vs 0 in 360 s: under equal rates k1 ~ Bin(5, 109/469); only k1 = 5 is as rare
    assert rate_comparison(5, 109, 0, 360) == pytest.approx((109 / 469) ** 5, rel=1e-9)   # 6.8e-4
    assert rate_comparison(2, 100, 2, 100) == pytest.approx(1.0)
    assert rate_comparison(1, 50, 0, 50) == pytest.approx(1.0)         # one crash alone separates nothing
    assert rate_comparison(0, 10, 0, 10) == 1.0
    assert rate_comparison(3, 100, 0, 100) == pytest.approx(0.25)      # 2 * 0.5^3
    assert rate_comparison(4, 30, 0, 0) == 1.0                         # no exposure on one side


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


# --- the scenario's own parsers --------------------------------------------------------------------
@pytest.fixture(scope="module")
def scenario():
    return load_case(CASES_DIR / "sticktable-race-2.9").scenario()


PROFILE_30 = """Tasks activity over 16.571 sec till 0.000 sec ago:
  function                      calls   cpu_tot   cpu_avg   lat_tot   lat_avg
  process_stream+0             302133   3.597m    714.3us   21.96m    4.360ms <- stream_new@src/stream.c:578 task_wakeup
  process_table_expire          77948   5.510s    70.69us   1.421m    1.093ms <- stktable_requeue_exp@src/stick_table.c:720 task_queue
  h1_io_cb                      37733   707.7ms   18.75us   1.152m    1.832ms <- sock_conn_iocb@src/sock.c:1028 tasklet_wakeup
  process_table_expire          21740   2.338s    107.6us   5.153s    237.0us <- run_tasks_from_lists@src/task.c:657 task_queue
"""
PROFILE_28 = """Tasks activity:
  function                      calls   cpu_tot   cpu_avg   lat_tot   lat_avg
  process_stream               120000   1.000m    500.0us   2.000m    1.000ms
  process_table_expire          45000   2.000s    44.44us   10.00s    222.2us
"""


def test_profiling_parser(scenario):
    assert scenario.expire_calls(PROFILE_30) == (77948 + 21740, 77948)
    assert scenario.expire_calls(PROFILE_28) == (45000, 0)            # 2.8 names no caller
    assert scenario.expire_calls("Unknown command: 'show profiling tasks'") is None


def test_bug_on_armed(scenario):
    assert scenario.bug_on_armed("  DEBUG   = -DDEBUG_STRICT -DDEBUG_MEMORY_POOLS\n", (2, 9))[0]
    assert scenario.bug_on_armed("  DEBUG   = \n\nFeature list : +EPOLL\n", (3, 0)) == (True, "DEBUG = (empty)")
    assert not scenario.bug_on_armed("  DEBUG   = \n", (2, 9))[0]
    assert not scenario.bug_on_armed("  DEBUG   = -DDEBUG_STRICT=0\n", (3, 0))[0]
    assert not scenario.bug_on_armed("  DEBUG   = -DDEBUG_STRICT -DDEBUG_STRICT_ACTION=0\n", (2, 9))[0]


def test_client_rate(scenario):
    assert scenario.client_rate("Requests/sec:  15114.58\n") == 15114.58
    assert scenario.client_rate("finished in 60.00s, 41234.50 req/s, 2.1MB/s\n") == 41234.5
    assert scenario.client_rate("") is None


def test_exposure_events_in_the_bound():
    r = result(outcome(1, "held", 100.0), outcome(2, "held", 100.0))
    for run, n in zip(r.runs, (400_000, 600_123)):
        run.notes.update(exposure_count=n, exposure_unit="process_table_expire runs")
    _summarise(r)
    assert r.reason.startswith("0 crashes in 200 s of load (1,000,123 process_table_expire runs): "
                               "rate < 0.015/s (95%); 0/2 runs")


# --- interleaved pairs (harness/pair.py) ------------------------------------------------------------
def side(spec, *runs):
    s = Side(spec)
    for r in runs:
        c = result(r)
        _summarise(c)
        s.results.append(c)
        s.loads.append(1.5)
    return s


def test_pair_separates_5_of_5_from_0_of_5():
    bad = side("bad", *(outcome(1, "reproduced", t) for t in (5.5, 20.0, 40.0, 12.0, 31.5)))
    good = side("good", *(outcome(1, "held", 100.0) for _ in range(5)))
    c = compare(bad, good)
    assert c["a"]["reproduced"] == 5 and c["a"]["counted"] == 5 and c["a"]["exposure_s"] == 109.0
    assert c["a"]["rate_95"] == [pytest.approx(0.0149, abs=1e-4), pytest.approx(0.107, abs=1e-3)]
    assert c["b"]["rate_95"] == [0.0, pytest.approx(rate_bound(500), abs=1e-5)]      # < 0.006/s
    assert c["fisher_p"] == pytest.approx(2 / 252)
    assert c["rate_p"] == pytest.approx((109 / 609) ** 5, rel=1e-3)
    assert c["b_bound_below_a_lower"] and c["significant"]


def test_pair_untestable_not_counted_and_small_samples_not_significant():
    bad = side("bad", outcome(1, "reproduced", 30.0), outcome(1, "untestable", 10.0))
    good = side("good", outcome(1, "held", 100.0), outcome(1, "held", 100.0))
    c = compare(bad, good)
    assert (c["a"]["counted"], c["a"]["untestable"]) == (1, 1)
    assert c["fisher_p"] == pytest.approx(1 / 3) and not c["significant"] and not c["b_bound_below_a_lower"]
