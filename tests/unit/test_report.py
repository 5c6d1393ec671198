"""The HTML report: the case × version table, bad vs good plots, evidence paths from another machine, and
what a real browser shows of it (headless Chromium; the screenshot is kept under results/)."""
from pathlib import Path

import pytest

from harness.knownbugs import known_bugs, summary_text
from harness.power import Rate
from harness.report import comparisons, grid, load_results, write_report
from harness.result import CheckResult, RunOutcome
from harness.series import Series
from harness.verdict import Verdict
from tests.browser import look

ROOT = Path(__file__).resolve().parents[2]


def result(case, haproxy, verdict, expected="unknown", runs=(), profile="default", version=None, **kw):
    return CheckResult(case, haproxy, version or f"{haproxy}-abc", None, profile, expected, "test", Verdict(verdict),
                       **{"reason": "why", "seconds": 12.5, **kw}, runs=list(runs))


def leak_run(directory: Path, stuck: bool, index: int = 1) -> RunOutcome:
    """One run's saved series: a bad build keeps 50 streams with no expiry, a good one lets them go."""
    streams = Series("streams", ["streams", "no_expiry", "curr_conns"], t0=0.0)
    resources = Series("resources", ["socket_fds", "container_tcp_bytes"], t0=0.0)
    for t in range(12):
        n = 50 if (stuck and t > 2) or 2 < t < 5 else 0
        streams.rows.append([t, n, n if stuck else 0, n])
        resources.rows.append([t, 3 + 2 * n, 250_000 * n])
    evidence = streams.save(directory) + resources.save(directory)
    verdict = Verdict.REPRODUCED if stuck else Verdict.HELD
    return RunOutcome(index, verdict, verdict, 12.0, str(directory),
                      findings=[{"oracle": "stuck-streams", "fired": stuck,
                                 "summary": "50 with no expiry" if stuck else "0", "inconclusive": "",
                                 "details": {"no_expiry": 50 if stuck else 0}, "evidence": evidence}])


def write_result(root: Path, r: CheckResult) -> None:
    d = root / r.case.replace("/", "__") / f"{r.haproxy}-{r.profile}"
    d.mkdir(parents=True, exist_ok=True)
    r.dump(d / "result.json")


def test_grid_puts_versions_oldest_first_and_profiles_apart():
    rs = [result("a/x", "2.8.14", "held"), result("a/x", "2.8.9", "reproduced"),
          result("b", "2.8.9", "held", profile="quic"), result("a/x", "git:/r@abc", "held", version="3.1-dev10-abc")]
    rows, columns, cells = grid(rs)
    assert rows == ["a/x", "b"]
    assert columns == ["2.8.9", "2.8.9 [quic]", "2.8.14", "git:/r@abc"]
    assert cells[("b", "2.8.9 [quic]")].verdict == Verdict.HELD and ("b", "2.8.9") not in cells


def test_comparison_pairs_last_affected_with_first_fixed(tmp_path):
    rs = [result("leak/recipe", v, verdict, runs=[leak_run(tmp_path / v, verdict == "reproduced")])
          for v, verdict in (("2.8.10", "reproduced"), ("2.8.13", "reproduced"), ("2.8.14", "held"),
                             ("3.0.11", "held"))]
    rs.append(result("leak/control", "2.8.14", "reproduced", runs=[leak_run(tmp_path / "c", True)]))
    (cmp,) = comparisons(rs)
    assert (cmp["bad"].haproxy, cmp["good"].haproxy) == ("2.8.13", "2.8.14")
    assert cmp["png"].startswith("data:image/png;base64,")


def test_no_comparison_without_a_good_run(tmp_path):
    rs = [result("leak/recipe", "2.8.13", "reproduced", runs=[leak_run(tmp_path / "b", True)]),
          result("leak/recipe", "2.8.14", "untestable")]
    assert comparisons(rs) == []


def test_evidence_recorded_on_a_ci_runner_is_found_under_the_downloaded_results(tmp_path):
    run_dir = tmp_path / "leak__recipe" / "2.8.13-default" / "20260101-000000-run1"
    run = leak_run(run_dir, True)
    elsewhere = "/home/runner/work/hrt/hrt/results"
    run.artifacts = run.artifacts.replace(str(tmp_path), elsewhere)
    run.findings[0]["evidence"] = [e.replace(str(tmp_path), elsewhere) for e in run.findings[0]["evidence"]]
    write_result(tmp_path, result("leak/recipe", "2.8.13", "reproduced", runs=[run]))
    (r,) = load_results(tmp_path)
    assert r.runs[0].artifacts == str(run_dir)
    assert all(Path(e).is_file() for e in r.runs[0].findings[0]["evidence"])


@pytest.mark.browser
def test_report_in_a_real_browser(tmp_path):
    bad = result("leak/recipe", "2.8.13", "reproduced", "reproduced", runs=[leak_run(tmp_path / "bad", True)])
    good = result("leak/recipe", "2.8.14", "held", "reproduced", runs=[leak_run(tmp_path / "good", False)])
    for r in (bad, good):
        write_result(tmp_path, r)
    untestable = result("leak/recipe", "2.8.8", "untestable")   # no runs: only `hrt test` passes it in memory
    page = write_report(tmp_path, load_results(tmp_path) + [untestable], name="test-2.8")
    assert page == tmp_path / "test-2.8" / "report.html"
    seen = look(page, ROOT / "results" / "screenshots" / "report-unit.png")

    cells = {c["haproxy"]: c for c in seen["cells"]}
    assert list(cells) == ["2.8.8", "2.8.13", "2.8.14"]
    assert "did not reproduce" in cells["2.8.14"]["text"] and "0/1 runs" in cells["2.8.14"]["text"]
    assert "1/1 runs" in cells["2.8.13"]["text"] and "12.5 s" in cells["2.8.13"]["text"]
    assert len({c["background"] for c in cells.values()}) == 3, "each verdict has its own colour"
    assert all(c["box"][0] > 0 and c["box"][1] > 0 for c in cells.values())

    shown = [i for i in seen["images"] if i["natural"][0] > 0 and i["box"][0] > 300]
    assert any(i["cls"] == "compare" and i["alt"].startswith("leak: bad vs good") for i in shown), seen["images"]
    assert sum(i["cls"] == "plot" for i in shown) >= 2   # the bad run's own streams and resources plots


def test_an_untestable_check_without_runs_is_kept_for_the_report(tmp_path, monkeypatch):
    """A source that cannot be fetched still leaves a result.json, so a joined CI report shows the cell."""
    from harness.case import find
    from harness.errors import SourceUnavailable
    from harness.runner import check_error
    monkeypatch.setenv("HRT_RESULTS", str(tmp_path))
    (variant,) = find("tcp-leak-2.8/recipe")
    check_error(variant, "2.8.26", "default", SourceUnavailable("2.8.26: no source reachable"), 0.2)
    (r,) = load_results(tmp_path)
    assert (r.case, r.haproxy, r.verdict, r.runs) == ("tcp-leak-2.8/recipe", "2.8.26", Verdict.UNTESTABLE, [])
    assert "no source reachable" in r.reason
    _, columns, cells = grid([r])
    assert columns == ["2.8.26"] and cells[("tcp-leak-2.8/recipe", "2.8.26")].verdict == Verdict.UNTESTABLE


def known(case, haproxy, verdict, expected, version=None, reason="why", **kw):
    return result(case, haproxy, verdict, expected, version=version or haproxy, reason=reason, **kw)


WEAK = {"runs": [RunOutcome(1, Verdict.HELD, "held", 1.0, "/nowhere")], "power_rate": Rate("run", 0.9506, "test")}


ONE_HAPROXY = [
    known("tcp-leak-2.8/recipe", "2.8.13", "reproduced", "reproduced"),
    known("tcp-leak-2.8/no-timeout-server", "2.8.13", "reproduced", "reproduced"),
    known("lua-filter-2.9/shared-state", "2.8.13", "reproduced", "held"),
    known("lua-filter-2.9/mixed-load", "2.8.13", "held", "held"),
    known("sticktable-race-2.9", "2.8.13", "held", "held", **WEAK),   # power 0.9506 from one run
    known("peers-appctx-3.0/fin", "2.8.13", "untestable", "unknown", reason="trigger not reached: no wait state"),
    known("quic-uaf-2.9/close", "2.8.13", "held", "held"),
    known("canary-crash/sigsegv", "2.8.13", "reproduced", "reproduced"),
    known("canary-crash/no-crash", "2.8.13", "reproduced", "held"),
    known("gone-case/x", "2.8.13", "held", "unknown"),
]


def test_the_answer_for_one_haproxy():
    columns, bugs, controls = known_bugs(ONE_HAPROXY)
    assert [c.key for c in columns] == ["2.8.13"]
    cells = {row.case: row.cells["2.8.13"] for row in bugs}
    assert [row.case for row in bugs][:2] == ["lua-filter-2.9", "tcp-leak-2.8"]   # contradictions, then affected
    assert (cells["tcp-leak-2.8"].tone, cells["tcp-leak-2.8"].label, cells["tcp-leak-2.8"].advice) == \
        ("affected", "affected, as expected", "upgrade to 2.8.14")
    assert cells["lua-filter-2.9"].tone == "contradiction" and "shared-state" in cells["lua-filter-2.9"].why
    peers, quic = cells["peers-appctx-3.0"], cells["quic-uaf-2.9"]
    assert (peers.tone, peers.why) == ("untested", "trigger not reached: no wait state")
    assert (quic.label, quic.advice) == ("not affected, as expected", "fixed in 2.8.8")
    assert cells["gone-case"].label == "not affected"
    assert cells["sticktable-race-2.9"].label == "not affected, as expected (weak, power 0.95)"
    tcp = next(row for row in bugs if row.case == "tcp-leak-2.8")
    assert tcp.upstream_label == "haproxy#2754" and tcp.fixed_in == {"3.0": "3.0.6", "2.8": "2.8.14"}
    assert {row.case: row.cells["2.8.13"].tone for row in controls} == {
        "canary-crash/no-crash": "contradiction", "canary-crash/sigsegv": "clear",
        "tcp-leak-2.8/no-timeout-server": "clear"}


def test_hrt_test_first_lines_say_the_same():
    text = summary_text(ONE_HAPROXY)
    lines = text.splitlines()
    assert lines[0] == "Known bugs in HAProxy 2.8.13:"
    tcp = next(line for line in lines if "tcp-leak-2.8" in line)
    assert tcp.lstrip().startswith("affected, as expected") and "haproxy#2754" in tcp
    assert "upgrade to 2.8.14 (fix fbc3de6e9, 67f675663, f55508ab6)" in tcp
    assert "could not test" in next(line for line in lines if "peers-appctx-3.0" in line)
    assert lines[-1].startswith("  harness self-check: 2/3 controls as expected; canary-crash/no-crash")
    assert "[" not in text.replace("[quic]", "") and "[bold red]" in summary_text(ONE_HAPROXY, markup=True)


def test_the_answer_across_versions_marks_the_first_fixed_release():
    rs = [known("tcp-leak-2.8/recipe", "2.8.13", "reproduced", "reproduced"),
          known("tcp-leak-2.8/recipe", "2.8", "held", "held", version="2.8.25-5cf5d0683"),
          known("tcp-leak-2.8/recipe", "2.8.14", "held", "held")]
    columns, (row,), _ = known_bugs(rs)
    assert [(c.key, c.label) for c in columns] == [("2.8.13", "2.8.13"), ("2.8.14", "2.8.14"), ("2.8", "2.8 (2.8.25)")]
    assert [(row.cells[c.key].advice, row.cells[c.key].first_fixed) for c in columns] == [
        ("upgrade to 2.8.14", False), ("fixed in 2.8.14", True), ("fixed in 2.8.14", False)]


@pytest.mark.browser
def test_the_report_leads_with_the_answer_in_a_real_browser(tmp_path):
    rs = ONE_HAPROXY + [known("tcp-leak-2.8/recipe", "2.8", "held", "held", version="2.8.25")]
    page = write_report(tmp_path, rs, name="answer")
    seen = look(page, ROOT / "results" / "screenshots" / "report-answer-unit.png")
    tops = seen["tops"]
    assert tops["known-bugs"] < tops["self-check"] < tops["verdicts"], tops
    cells = {(a["table"], a["case"], a["haproxy"]): a for a in seen["answers"]}
    red = cells[("known-bugs", "lua-filter-2.9", "2.8.13")]
    amber = cells[("known-bugs", "tcp-leak-2.8", "2.8.13")]
    green = cells[("known-bugs", "tcp-leak-2.8", "2.8")]
    grey = cells[("known-bugs", "peers-appctx-3.0", "2.8.13")]
    assert "upgrade to 2.8.14" in amber["text"] and "fixed in 2.8.14" in green["text"]
    assert "could not test" in grey["text"] and "trigger not reached" in grey["text"]

    def rgb(c):
        return tuple(int(x) for x in c["background"][4:-1].split(","))
    assert len({rgb(c) for c in (red, amber, green, grey)}) == 4
    r, g, b = rgb(red)
    assert r > 200 and g < 200 and b < 200, "a contradiction is red"
    r, g, b = rgb(amber)
    assert r > 240 and g > 200 and b < 200, "affected as expected is amber, not an error colour"
    assert cells[("self-check", "canary-crash/no-crash", "2.8.13")]["tone"] == "contradiction"
    assert all(c["box"][0] > 100 for c in seen["answers"])
