import json

import pytest

from harness.power import Rate
from harness.result import CheckResult, RunOutcome
from harness.verdict import Verdict

JSON_KEYS = {"case", "haproxy", "version", "commit", "profile", "expected", "verdict", "runs", "reproduced_runs",
             "rate", "seconds", "evidence"}


def run(i, verdict):
    return RunOutcome(i, Verdict(verdict), "why", 1.5, f"/r/run{i}")


def result(expected="held", verdict="held", verdicts=("held",), **kw):
    return CheckResult(case="tcp-leak-2.8/recipe", haproxy="2.8.13", version="2.8.13-0a1b2c3", commit=None,
                       profile="default", expected=expected, expected_why="measured", verdict=Verdict(verdict),
                       runs=[run(i, v) for i, v in enumerate(verdicts)], seconds=12.345,
                       evidence=["/r/run0/streams.csv"], **kw)


def test_to_json_has_exactly_the_contract_keys():
    d = result().to_json()
    assert set(d) == JSON_KEYS
    assert d["case"] == "tcp-leak-2.8/recipe"
    assert d["haproxy"] == "2.8.13"
    assert d["version"] == "2.8.13-0a1b2c3"
    assert d["commit"] is None
    assert d["runs"] == 1
    assert d["reproduced_runs"] == 0
    assert d["rate"] == 0.0
    assert d["seconds"] == 12.3
    assert d["evidence"] == ["/r/run0/streams.csv"]
    json.dumps(d)   # serialisable as is


def test_rates_count_only_decided_runs():
    r = result(verdict="reproduced", verdicts=("reproduced", "held", "untestable", "reproduced"))
    assert r.reproduced_runs == 2
    assert r.counted_runs == 3
    d = r.to_json()
    assert d["runs"] == 4 and d["reproduced_runs"] == 2 and d["rate"] == round(2 / 3, 4)


def test_rate_none_without_decided_runs():
    r = result(verdict="untestable", verdicts=("untestable",))
    assert r.rate is None and r.to_json()["rate"] is None
    assert result(verdicts=()).to_json()["rate"] is None
    assert r.bound_text() == ""


@pytest.mark.parametrize("expected,verdict,matches,mismatch", [
    ("held", "held", True, ""),
    ("reproduced", "reproduced", True, ""),
    ("held", "reproduced", False, "regression"),
    ("reproduced", "held", False, "did not reproduce"),
    ("held", "untestable", True, ""),
    ("reproduced", "untestable", True, ""),
    ("unknown", "reproduced", True, ""),
    ("unknown", "held", True, ""),
    ("unknown", "untestable", True, ""),
])
def test_matches_and_mismatch(expected, verdict, matches, mismatch):
    r = result(expected=expected, verdict=verdict)
    assert r.matches is matches
    assert r.mismatch == mismatch


def test_bound_text_zero_hits():
    r = result(verdicts=("held",) * 10)
    assert r.bound_text() == "0/10 runs: per-run rate < 0.26 (95%)"


def test_bound_text_with_hits():
    r = result(verdict="reproduced", verdicts=("reproduced",) * 5 + ("held",) * 5)
    assert r.bound_text() == "5/10 runs: rate 0.50 (95% CI 0.24-0.76)"


def test_full_and_dump(tmp_path):
    r = result(reason="all held")
    full = r.full()
    assert JSON_KEYS < set(full)
    assert full["expected_why"] == "measured" and full["reason"] == "all held"
    assert full["run_details"][0]["artifacts"] == "/r/run0"
    p = tmp_path / "result.json"
    r.dump(p)
    assert json.loads(p.read_text())["verdict"] == "held"


def test_a_result_json_loads_back_into_the_same_result(tmp_path):
    """What the report and known bugs read is what the runner wrote: runs, power rate and all."""
    r = result(verdict="held", verdicts=("held", "untestable"), reason="all held", power_target=0.99,
               power_rate=Rate("second", 0.05, "2.8.13: 4 in 60 s", param="seconds"), by_version="reproduced",
               identity={"sha256": "ab"}, interrupted=True)
    r.runs[0].notes["exposure_s"] = 30.0
    r.runs[0].findings.append({"oracle": "crash", "fired": False, "evidence": ["/r/run0/core.txt"]})
    p = tmp_path / "result.json"
    r.dump(p)
    back = CheckResult.load(p)
    assert back.full() == json.loads(p.read_text())
    assert back.runs[1].verdict is Verdict.UNTESTABLE and back.power_rate == r.power_rate
    assert (back.weak, back.power_text(), back.reading) == (r.weak, r.power_text(), r.reading)


def test_an_older_result_json_loads_with_defaults():
    """Before power, packaged builds and interruptions, result.json had only these keys."""
    old = result(verdict="reproduced", verdicts=("reproduced",)).full()
    for key in ("power", "power_target", "power_weak", "power_text", "power_rate", "exposure_reached",
                "by_version", "reading", "identity", "interrupted"):
        del old[key]
    r = CheckResult.from_json(old)
    assert (r.verdict, r.expected, r.power_rate, r.by_version, r.identity, r.interrupted) == (
        Verdict.REPRODUCED, Verdict.HELD, None, "", {}, False)
    assert r.mismatch == "regression" and r.bound_text() == old["bound"]


def test_a_report_column_keeps_profiles_apart():
    assert result().column == "2.8.13" and result().anchor == "tcp-leak-2.8_recipe_2.8.13"
    quic = CheckResult.from_json(result().full() | {"profile": "quic"})
    assert quic.column == "2.8.13 [quic]" and quic.anchor == "tcp-leak-2.8_recipe_2.8.13_quic"


@pytest.mark.parametrize("expected,verdict,strict_failure", [
    ("reproduced", "untestable", "untested"),      # CI must not read a lost core or a failed build as green
    ("held", "untestable", "untested"),
    ("untestable", "untestable", ""),              # the case says this build is untestable on purpose
    ("unknown", "untestable", ""),                 # nothing was expected
    ("held", "reproduced", "regression"),
    ("held", "held", ""),
])
def test_strict_fails_untestable_where_a_verdict_was_expected(expected, verdict, strict_failure):
    r = result(expected=expected, verdict=verdict)
    assert r.failure(strict=True) == strict_failure
    assert r.failure(strict=False) == r.mismatch


def test_the_verdict_table_prints_haproxy_words_as_text(capsys):
    """HAProxy's messages carry brackets ([ALERT], [/work/haproxy.cfg:11]) that rich would read as markup."""
    from harness.cli import _print_table
    r = result(expected="unknown", verdict="untestable", verdicts=("untestable",),
               reason="haproxy -c rejected the case's config: parsing [/work/haproxy.cfg:11] : unknown keyword")
    _print_table([r])
    assert "[/work/haproxy.cfg:11]" in capsys.readouterr().out


def test_progress_notes_print_haproxy_words_as_text(capsys):
    from harness import progress
    progress.note("peers: untestable haproxy -c rejected the case's config: parsing [/work/haproxy.cfg:11] : x")
    assert "[/work/haproxy.cfg:11]" in capsys.readouterr().err
