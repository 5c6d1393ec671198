"""Power arithmetic (binomial per run, Poisson per second / unit) with known values, the exposure plan a
target power gives, and the early stop of `check()` with a fake run function."""
import math
from dataclasses import replace
from types import SimpleNamespace

import pytest

from harness import runner
from harness.case import find
from harness.errors import HrtError
from harness.power import (DEFAULT_POWER, Rate, exposure_needed, exposure_power, lower95_poisson, lower95_runs,
                           plan, reached, runs_needed, runs_power)
from harness.result import CheckResult, RunOutcome


# --- arithmetic ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p,power,n", [
    (0.5, 0.999, 10),     # 1 - 0.5^10 = 0.99902; 0.5^9 leaves 0.998
    (0.9, 0.999, 3),      # exactly 1 - 0.1^3: no fourth run for a rounding error
    (0.741, 0.999, 6),    # ln(0.001) / ln(0.259) = 5.11
    (0.806, 0.999, 5),
    (0.2, 0.95, 14),
    (1.0, 0.999, 1),
    (0.999, 0.5, 1),
])
def test_runs_needed(p, power, n):
    assert runs_needed(p, power) == n
    assert runs_power(p, n) >= power - 1e-12
    if n > 1:
        assert runs_power(p, n - 1) < power


def test_exposure_needed_is_minus_ln_of_the_miss_over_rate():
    assert exposure_needed(0.11, 0.999) == pytest.approx(-math.log(0.001) / 0.11)      # 62.8 s
    assert exposure_needed(0.11, 0.999) == pytest.approx(62.80, abs=0.01)
    assert exposure_needed(1.0, 0.95) == pytest.approx(2.9957, abs=1e-4)               # the rule of three
    assert exposure_power(0.11, exposure_needed(0.11, 0.999)) == pytest.approx(0.999)
    assert exposure_power(0.11, 0) == 0.0
    assert exposure_power(0.05, 20) == pytest.approx(1 - math.exp(-1))


def test_zero_rates_reach_nothing():
    with pytest.raises(ValueError):
        runs_needed(0, 0.9)
    with pytest.raises(ValueError):
        exposure_needed(0, 0.9)


def test_lower_bounds():
    assert lower95_runs(16, 16) == pytest.approx(0.806, abs=1e-3)      # Wilson: n / (n + z^2)
    assert lower95_runs(10, 10) == pytest.approx(1 - 0.2775, abs=5e-4)
    assert lower95_poisson(10, 44.0) == pytest.approx(4.7954 / 44, abs=1e-4)   # Garwood, 10 events
    assert lower95_poisson(5, 22.5) == pytest.approx(1.6235 / 22.5, abs=1e-4)


# --- plan and exposure reached ---------------------------------------------------------------------------
PER_S = Rate("second", 0.11, "3.0.3: 16/16 runs", param="churn_s")
PER_RUN = Rate("run", 0.5, "5/5 runs")
PER_CONN = Rate("connections", 0.9, "46/46 connections", param="connections", model="binomial")


@pytest.fixture
def variant():
    (v,) = find("canary-crash/no-crash")     # expect = "held" on every build
    return replace(v, runs=3, timeout=60.0, params={**v.params, "churn_s": 60, "connections": 3})


def test_plan_per_run(variant):
    p = plan(replace(variant, rate=PER_RUN), None, None)
    assert (p.runs, p.params, p.timeout, p.target, p.fixed) == (10, {}, 60.0, DEFAULT_POWER, False)


def test_plan_per_second_sets_the_scenario_param_and_grows_the_timeout(variant):
    p = plan(replace(variant, rate=PER_S), None, None)
    assert p.runs == 1 and p.params == {"churn_s": 64}          # ceil(62.8) + 1
    assert p.timeout == 64.0                                    # 60 + (64 - 60)
    p = plan(replace(variant, rate=PER_S), None, 0.9)
    assert p.params == {"churn_s": 22} and p.timeout == 60.0    # shorter than the default: bound unchanged


def test_plan_per_unit(variant):
    p = plan(replace(variant, rate=PER_CONN), None, None)
    assert p.runs == 1 and p.params == {"connections": 3}       # each connection a trial: 1 - 0.1^3
    p = plan(replace(variant, rate=Rate("connections", 0.9, "x", param="connections")), None, None)
    assert p.params == {"connections": 8}                       # as a Poisson rate: ceil(6.908 / 0.9)


def test_plan_fixed_runs_and_no_rate(variant):
    p = plan(replace(variant, rate=PER_S), 5, None)
    assert (p.runs, p.params, p.fixed, p.target) == (5, {}, True, DEFAULT_POWER)
    p = plan(variant, None, None)
    assert (p.runs, p.target, p.fixed) == (3, None, False)      # fixed exposure, power unknown


def test_plan_case_target_and_explicit_power(variant):
    capped = replace(variant, rate=Rate("run", 0.5, "x", target=0.9, why="runs are slow"))
    assert plan(capped, None, None).target == 0.9 and plan(capped, None, None).runs == 4
    assert plan(capped, None, 0.999).target == 0.999           # an explicit --power is obeyed
    with pytest.raises(HrtError):
        plan(capped, None, 1.0)


def run(i, verdict, **notes):
    return RunOutcome(i, verdict, f"run {i} {verdict}", 1.0, f"/r/run{i}", notes=notes)


def test_reached_counts_measured_exposure_of_counted_runs():
    runs = [run(1, "held", exposure_s=40.2, exposure_count=3, exposure_unit="connections"),
            run(2, "untestable", exposure_s=60.0), run(3, "held")]
    assert reached(PER_RUN, runs) == 2
    assert reached(PER_S, runs) == pytest.approx(40.2)          # the run without the note adds nothing
    assert reached(PER_CONN, runs) == 3
    assert reached(Rate("process_table_expire runs", 1e-5, "x", param="load_s"), runs) == 0


# --- result texts ----------------------------------------------------------------------------------------
def result(rate, target, *runs, verdict="held"):
    return CheckResult("c/v", "3.0.11", "3.0.11", None, "default", "held", "", verdict, runs=list(runs),
                       power_rate=rate, power_target=target)


def test_strong_held_states_its_power():
    r = result(PER_S, 0.999, run(1, "held", exposure_s=64.3))
    assert not r.weak and r.verdict_text == "held"
    assert r.power_text() == "power 0.999 against 0.11/s (3.0.3: 16/16 runs)"
    assert r.full()["power"] == pytest.approx(1 - math.exp(-0.11 * 64.3))
    assert r.full()["power_target"] == 0.999 and r.full()["exposure_reached"] == pytest.approx(64.3)


def test_short_exposure_is_weak_never_strong():
    r = result(PER_S, 0.999, run(1, "held", exposure_s=8.8))   # interrupted: 8.8 s of the 64 needed
    assert r.weak and r.verdict_text == "held (weak, power 0.62)"
    assert r.power_text().startswith("weak: power 0.62 against 0.11/s")
    assert r.power_text().endswith("target 0.999: 9 s of 63 s reached")
    assert r.full()["power_weak"] is True


def test_power_shown_rounded_down():
    r = result(PER_S, 0.99, run(1, "held", exposure_s=62.0))  # 0.99891...
    assert "power 0.998 against" in r.power_text()


def test_no_rate_is_power_unknown():
    r = result(None, None, run(1, "held"))
    assert r.power() is None and not r.weak
    assert r.power_text() == "power unknown (no measured bad-build rate)"
    assert r.full()["power"] is None


def test_summarise_puts_power_into_a_held_reason():
    r = result(PER_RUN, 0.999, *(run(i, "held") for i in range(1, 11)), verdict="untestable")
    runner._summarise(r)
    assert r.verdict == "held" and "; power 0.999 against 0.5 per run (5/5 runs); " in r.reason


# --- early stop of check() -------------------------------------------------------------------------------
@pytest.fixture
def fake_runs(monkeypatch, tmp_path):
    """check() with a fake run function: `script` gives each run's outcome; `calls` what it was asked."""
    monkeypatch.setenv("HRT_RESULTS", str(tmp_path / "results"))
    calls, script = [], []

    def run_once(variant, b, images, spec_text, index, params_override=None):
        calls.append({"index": index, "params": dict(params_override or {}), "timeout": variant.timeout})
        verdict, notes = script[index - 1]
        return RunOutcome(index, verdict, f"run {index} {verdict}", 1.0, str(tmp_path / f"run{index}"),
                          notes=dict(notes))

    monkeypatch.setattr(runner, "run_once", run_once)
    build = SimpleNamespace(features=SimpleNamespace(version="3.0.11", has=lambda f: True), profile="default",
                            runtime=SimpleNamespace(identity={}))
    source = SimpleNamespace(version="3.0.11", commit=None, spec=SimpleNamespace(kind="release"), repo=None,
                             provenance={})

    def check(v, runs=None, power=None):
        return runner.check(v, "3.0.11", runs=runs, images=object(), prepared=(source, build, ""), power=power)
    return SimpleNamespace(calls=calls, script=script, check=check)


def test_stops_at_the_first_reproduction(variant, fake_runs):
    fake_runs.script[:] = [("held", {}), ("reproduced", {}), ("held", {})] + [("held", {})] * 7
    r = fake_runs.check(replace(variant, rate=PER_RUN))
    assert len(fake_runs.calls) == 2 and r.verdict == "reproduced" and r.reason == "run 2 reproduced"


def test_held_stops_once_the_target_runs_are_made(variant, fake_runs):
    fake_runs.script[:] = [("held", {})] * 20
    r = fake_runs.check(replace(variant, rate=PER_RUN))
    assert len(fake_runs.calls) == 10 and r.verdict == "held" and not r.weak
    assert r.power() == pytest.approx(1 - 0.5 ** 10)


def test_held_per_second_is_one_run_of_the_needed_seconds(variant, fake_runs):
    fake_runs.script[:] = [("held", {"exposure_s": 64.1})]
    r = fake_runs.check(replace(variant, rate=PER_S))
    assert fake_runs.calls == [{"index": 1, "params": {"churn_s": 64}, "timeout": 64.0}]
    assert r.verdict == "held" and not r.weak and r.power() >= 0.999


def test_held_short_of_its_exposure_is_weak(variant, fake_runs):
    fake_runs.script[:] = [("held", {"exposure_s": 8.8})]       # the load ran 8.8 s of the 64 asked
    r = fake_runs.check(replace(variant, rate=PER_S))
    assert r.verdict == "held" and r.weak and r.verdict_text == "held (weak, power 0.62)"
    assert "weak: power 0.62" in r.reason


def test_untestable_runs_add_no_power(variant, fake_runs):
    fake_runs.script[:] = [("held", {})] * 4 + [("untestable", {})] * 6
    r = fake_runs.check(replace(variant, rate=PER_RUN))
    assert len(fake_runs.calls) == 10 and r.verdict == "held" and r.weak
    assert r.power() == pytest.approx(1 - 0.5 ** 4)


def test_fixed_runs_make_every_run_and_state_the_power(variant, fake_runs):
    fake_runs.script[:] = [("reproduced", {}), ("held", {}), ("reproduced", {})]
    r = fake_runs.check(replace(variant, rate=PER_RUN), runs=3)
    assert len(fake_runs.calls) == 3 and r.reproduced_runs == 2      # --runs N measures a rate
    fake_runs.calls.clear()
    fake_runs.script[:] = [("held", {})] * 3
    r = fake_runs.check(replace(variant, rate=PER_RUN), runs=3)
    assert len(fake_runs.calls) == 3 and r.weak and r.power_text().startswith("weak: power 0.875 against")


def test_no_rate_keeps_the_fixed_exposure(variant, fake_runs):
    fake_runs.script[:] = [("held", {})] * 3
    r = fake_runs.check(variant)
    assert len(fake_runs.calls) == 3 and "power unknown" in r.reason and r.full()["power"] is None


# --- the `rate` table of case.toml -----------------------------------------------------------------------
CASE = """\
title = "t"
template = "t.cfg.j2"
oracles = [{ name = "crash" }]
params = { load_s = 100, connections = 3 }
"""


@pytest.fixture
def write_case(tmp_path, monkeypatch):
    import harness.case
    (tmp_path / "t.cfg.j2").write_text("global\n")
    monkeypatch.setattr(harness.case, "CONFIGS_DIR", tmp_path)

    def write(extra: str):
        d = tmp_path / "c"
        d.mkdir(exist_ok=True)
        (d / "case.toml").write_text(CASE + extra)
        (d / "scenario.py").write_text("def run(ctx):\n    return None\n")
        return d
    return write


def test_case_rate_loads_per_case_and_per_variant(write_case):
    from harness.case import load_case
    case = load_case(write_case('rate = { per = "second", lower95 = 0.072, evidence = "2.9.6: 5 in 22.5 s", '
                                'param = "load_s" }\n[variants.a]\n[variants.b]\n'
                                'rate = { per = "connections", model = "binomial", lower95 = 0.9, '
                                'evidence = "46/46", param = "connections", target = 0.99, why = "slow" }\n'))
    a, b = case.variants
    assert a.rate == Rate("second", 0.072, "2.9.6: 5 in 22.5 s", "load_s", None, "", "poisson")
    assert b.rate.binomial and b.rate.target == 0.99 and b.rate.why == "slow"


@pytest.mark.parametrize("rate,fragment", [
    ('{ per = "run", lower95 = 1.5, evidence = "x" }', "rate.lower95"),
    ('{ per = "run", lower95 = 0.5 }', "rate.evidence"),
    ('{ per = "second", lower95 = 0.5, evidence = "x" }', "rate.param"),
    ('{ per = "second", lower95 = 0.5, evidence = "x", param = "nope" }', "rate.param"),
    ('{ per = "run", lower95 = 0.5, evidence = "x", target = 0.9 }', "rate.target"),
    ('{ per = "run", lower95 = 0.5, evidence = "x", model = "poisson" }', "rate.model"),
    ('{ per = "run", lower95 = 0.5, evidence = "x", pwr = 1 }', "unknown field"),
])
def test_case_rate_errors_name_the_field(write_case, rate, fragment):
    from harness.case import load_case
    from harness.errors import CaseError
    with pytest.raises(CaseError) as exc:
        load_case(write_case(f"rate = {rate}\n"))
    assert fragment in str(exc.value)
