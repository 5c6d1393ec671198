"""The HTML report: the case × version table, bad vs good plots, evidence paths from another machine, and
what a real browser shows of it (headless Chromium; the screenshot is kept under results/)."""
import json
from pathlib import Path

from harness.report import comparisons, grid, load_results, write_report
from harness.series import Series
from tests.browser import look

ROOT = Path(__file__).resolve().parents[2]


def result(case, haproxy, verdict, expected="unknown", runs=(), profile="default", version=None):
    return {"case": case, "haproxy": haproxy, "version": version or f"{haproxy}-abc", "commit": None,
            "profile": profile, "expected": expected, "expected_why": "test", "verdict": verdict,
            "runs": len(runs), "reproduced_runs": sum(r["verdict"] == "reproduced" for r in runs),
            "rate": None, "seconds": 12.5, "evidence": [], "reason": "why", "bound": "",
            "run_details": list(runs)}


def leak_run(directory: Path, stuck: bool, index: int = 1) -> dict:
    """One run's saved series: a bad build keeps 50 streams with no expiry, a good one lets them go."""
    streams = Series("streams", ["streams", "no_expiry", "curr_conns"], t0=0.0)
    resources = Series("resources", ["socket_fds", "container_tcp_bytes"], t0=0.0)
    for t in range(12):
        n = 50 if (stuck and t > 2) or 2 < t < 5 else 0
        streams.rows.append([t, n, n if stuck else 0, n])
        resources.rows.append([t, 3 + 2 * n, 250_000 * n])
    evidence = streams.save(directory) + resources.save(directory)
    verdict = "reproduced" if stuck else "held"
    return {"index": index, "verdict": verdict, "reason": verdict, "seconds": 12.0, "artifacts": str(directory),
            "findings": [{"oracle": "stuck-streams", "fired": stuck, "summary": "50 with no expiry" if stuck else "0",
                          "inconclusive": "", "details": {"no_expiry": 50 if stuck else 0},
                          "evidence": evidence}], "preconditions": {}, "notes": {}}


def write_result(root: Path, r: dict) -> None:
    d = root / r["case"].replace("/", "__") / f"{r['haproxy']}-{r['profile']}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "result.json").write_text(json.dumps(r))


def test_grid_puts_versions_oldest_first_and_profiles_apart():
    rs = [result("a/x", "2.8.14", "held"), result("a/x", "2.8.9", "reproduced"),
          result("b", "2.8.9", "held", profile="quic"), result("a/x", "git:/r@abc", "held", version="3.1-dev10-abc")]
    rows, columns, cells = grid(rs)
    assert rows == ["a/x", "b"]
    assert columns == ["2.8.9", "2.8.9 [quic]", "2.8.14", "git:/r@abc"]
    assert cells[("b", "2.8.9 [quic]")]["verdict"] == "held" and ("b", "2.8.9") not in cells


def test_comparison_pairs_last_affected_with_first_fixed(tmp_path):
    rs = [result("leak/recipe", v, verdict, runs=[leak_run(tmp_path / v, verdict == "reproduced")])
          for v, verdict in (("2.8.10", "reproduced"), ("2.8.13", "reproduced"), ("2.8.14", "held"),
                             ("3.0.11", "held"))]
    rs.append(result("leak/control", "2.8.14", "reproduced", runs=[leak_run(tmp_path / "c", True)]))
    (cmp,) = comparisons(rs)
    assert (cmp["bad"]["haproxy"], cmp["good"]["haproxy"]) == ("2.8.13", "2.8.14")
    assert cmp["png"].startswith("data:image/png;base64,")


def test_no_comparison_without_a_good_run(tmp_path):
    rs = [result("leak/recipe", "2.8.13", "reproduced", runs=[leak_run(tmp_path / "b", True)]),
          result("leak/recipe", "2.8.14", "untestable")]
    assert comparisons(rs) == []


def test_evidence_recorded_on_a_ci_runner_is_found_under_the_downloaded_results(tmp_path):
    run_dir = tmp_path / "leak__recipe" / "2.8.13-default" / "20260101-000000-run1"
    run = leak_run(run_dir, True)
    elsewhere = "/home/runner/work/hrt/hrt/results"
    run["artifacts"] = run["artifacts"].replace(str(tmp_path), elsewhere)
    run["findings"][0]["evidence"] = [e.replace(str(tmp_path), elsewhere) for e in run["findings"][0]["evidence"]]
    write_result(tmp_path, result("leak/recipe", "2.8.13", "reproduced", runs=[run]))
    (r,) = load_results(tmp_path)
    assert r["run_details"][0]["artifacts"] == str(run_dir)
    assert all(Path(e).is_file() for e in r["run_details"][0]["findings"][0]["evidence"])


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
    assert (r["case"], r["haproxy"], r["verdict"], r["runs"]) == ("tcp-leak-2.8/recipe", "2.8.26", "untestable", 0)
    assert "no source reachable" in r["reason"]
    _, columns, cells = grid([r])
    assert columns == ["2.8.26"] and cells[("tcp-leak-2.8/recipe", "2.8.26")]["verdict"] == "untestable"
