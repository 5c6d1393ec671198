"""`hrt range` with a fake checker (release -> verdict): the interval, the skips, the check count, --write."""
import dataclasses
import shutil
import tomllib
from pathlib import Path

import pytest

from harness.case import find, load_case
from harness.cli import main
from harness.errors import CaseError
from harness.range import Step, pick_variant, search, write_entry

ROOT = Path(__file__).resolve().parents[2]
R28 = [f"2.8.{i}" for i in range(27)]


def variant(branches=None, probabilistic=False):
    (v,) = find("tcp-leak-2.8/recipe")
    case = dataclasses.replace(v.case, probabilistic=probabilistic)
    return dataclasses.replace(v, case=case, branches=branches or {})


def checker(affected=(), untestable=(), no_build=(), runs=1):
    """A fake check: reproduced inside `affected`, held outside, untestable where told; records the calls."""
    calls = []

    def check(version):
        calls.append(version)
        if version in no_build:
            return Step(version, "untestable", build="failed", reason="make failed")
        if version in untestable:
            return Step(version, "untestable", runs, runs, "cached", reason="trigger not reached: x")
        verdict = "reproduced" if version in affected else "held"
        return Step(version, verdict, runs, runs, "cached")
    check.calls = calls
    return check


def between(a, b):
    return {f"2.8.{i}" for i in range(a, b)}


def test_interval_inside_the_branch():
    check = checker(between(6, 14))
    r = search(variant(), "2.8", R28, check)
    assert (r.affected, r.first_affected, r.first_fixed, r.measured_from) == (True, "2.8.6", "2.8.14", None)
    assert check.calls[:2] == ["2.8.26", "2.8.0"]          # the ends first
    assert r.step("2.8.5").verdict == "held" and r.step("2.8.13").verdict == "reproduced"
    assert r.entry()["affected_from"] == "2.8.6" and r.entry()["fixed_in"] == "2.8.14"
    assert "upgrade to 2.8.14" in r.report()


def test_affected_from_the_branch_start():
    r = search(variant(), "2.8", R28, checker(between(0, 14)))
    assert (r.first_affected, r.first_fixed) == ("2.8.0", "2.8.14")
    entry = r.entry()
    assert "affected_from" not in entry and "measured_from" not in entry and entry["fixed_in"] == "2.8.14"
    assert "branch's first release 2.8.0" in r.answer()


def test_never_fixed():
    r = search(variant(), "2.8", R28, checker(between(5, 27)))
    assert (r.first_affected, r.first_fixed) == ("2.8.5", None)
    assert "fixed_in" not in r.entry() and "not fixed up to 2.8.26" in r.answer()


def test_nothing_affected():
    check = checker()
    r = search(variant(), "2.8", R28, check)
    assert r.affected is False and r.entry()["status"] == "not-affected"
    assert check.calls == ["2.8.26", "2.8.0", "2.8.13"]    # the ends and the middle


def test_unbuildable_and_unreachable_releases_are_skipped_and_named():
    check = checker(between(0, 8), untestable={"2.8.26"}, no_build={"2.8.0", "2.8.8"})
    r = search(variant(), "2.8", R28, check)
    assert (r.first_affected, r.first_fixed, r.measured_from) == ("2.8.1", "2.8.9", "2.8.1")
    assert [s.version for s in r.skipped()] == ["2.8.0", "2.8.8", "2.8.26"]
    assert "the fix may already be in the skipped 2.8.8" in r.answer()
    entry = r.entry()
    assert entry["measured_from"] == "2.8.1" and entry["fixed_in"] == "2.8.9" and "affected_from" not in entry
    assert "skipped: 2.8.0 (build failed), 2.8.8 (build failed), 2.8.26 (trigger not reached: x)" in entry["evidence"]
    assert "2.8.7 reproduced 1/1" in entry["evidence"] and "2.8.9 held 1/1" in entry["evidence"]


def test_a_harness_error_is_skipped_not_counted():
    def check(version):
        verdict = "error" if version == "2.8.13" else "reproduced" if version in between(0, 14) else "held"
        return Step(version, verdict, 1, 1, "cached", reason="Traceback: boom")
    r = search(variant(), "2.8", R28, check)
    assert (r.first_affected, r.first_fixed) == ("2.8.0", "2.8.14")
    assert [s.version for s in r.skipped()] == ["2.8.13"] and r.step("2.8.12").verdict == "reproduced"


def test_no_two_testable_releases_is_undecided():
    r = search(variant(), "2.8", R28[:3], checker(no_build=set(R28[:3])))
    assert r.affected is None and r.entry() is None and "undecided" in r.answer()


@pytest.mark.parametrize("n", [8, 16, 27])
def test_check_count_bound_with_a_prior(n):
    """ceil(log2 n)+3 checks for any interval with both ends inside, when the case's [branches] entry
    predicts it right or one release off (without a prior, two boundaries cost up to 2 log2 n)."""
    releases = R28[:n]
    for a in range(1, n - 1):
        for f in range(a + 1, n):
            truth = between(a, f)
            for da, df in ((0, 0), (1, 0), (0, -1), (-1, 1)):
                pa, pf = min(max(a + da, 1), n - 2), min(max(f + df, 2), n - 1)
                prior = {"2.8": {"affected_from": releases[pa], "fixed_in": releases[pf]}}
                r = search(variant(prior), "2.8", releases, checker(truth))
                assert (r.first_affected, r.first_fixed) == (releases[a], releases[f])
                if (da, df) == (0, 0):
                    assert len(r.steps) <= r.bound, (a, f, [s.version for s in r.steps])


def test_a_prior_pointing_elsewhere_still_finds_the_truth():
    """Only the checks decide: a wrong prior costs checks, not the answer (when an end or the middle of
    the branch is affected; an interval away from all of them and from the prior is not found)."""
    prior = {"2.8": {"affected_from": "2.8.20", "fixed_in": "2.8.22"}}
    r = search(variant(prior), "2.8", R28, checker(between(0, 9)))
    assert (r.first_affected, r.first_fixed) == ("2.8.0", "2.8.9")
    r = search(variant(prior), "2.8", R28, checker(between(10, 16)))
    assert (r.first_affected, r.first_fixed) == ("2.8.10", "2.8.16")


def test_probabilistic_answer_resting_on_held_steps_warns():
    r = search(variant(probabilistic=True), "2.8", R28, checker(between(0, 14), runs=3))
    assert "WARNING" in r.report() and "as few as 3 run(s)" in r.report()
    assert "WARNING" not in search(variant(), "2.8", R28, checker(between(0, 14))).report()


def test_report_lists_each_check_and_the_bound():
    r = search(variant(), "2.8", R28, checker(between(0, 14), no_build={"2.8.26"}))
    text = r.report()
    assert f"{len(r.steps)} checks (1 skipped) over 27 releases (bound ceil(log2 27)+3 = 8)" in text
    assert all(s.version in text for s in r.steps) and "2.8.26 (build failed)" in text


def test_pick_variant():
    assert pick_variant("tcp-leak-2.8").id == "tcp-leak-2.8/recipe"     # the other variant is a control
    assert pick_variant("quic-uaf-2.9/close").id == "quic-uaf-2.9/close"
    with pytest.raises(CaseError, match="CASE/VARIANT"):
        pick_variant("quic-uaf-2.9")
    with pytest.raises(CaseError, match="none"):
        pick_variant("canary-crash")


def test_write_round_trip_keeps_comments_and_other_tables(tmp_path):
    case_dir = tmp_path / "tcp-leak-2.8"
    shutil.copytree(ROOT / "cases" / "tcp-leak-2.8", case_dir)
    path = case_dir / "case.toml"
    before = path.read_text().replace("# Measured on upstream", "# about the ranges\n# Measured on upstream")
    path.write_text(before)
    v = load_case(case_dir).variant("recipe")
    r = search(v, "2.8", R28, checker(between(0, 14)))
    write_entry(v, "2.8", r.entry())
    after = path.read_text()
    assert tomllib.loads(after)["branches"]["2.8"] == r.entry()
    old_28 = before.split('[branches."2.8"]')[1].split("[branches")[0]
    new_28 = after.split('[branches."2.8"]')[1].split("[branches")[0]
    assert before.replace(old_28, "") == after.replace(new_28, "")      # nothing else changed, comments included
    assert load_case(case_dir).variant("recipe").branches["2.8"]["fixed_in"] == "2.8.14"


def test_write_goes_to_the_variants_own_branches_and_creates_missing_tables(tmp_path):
    case_dir = tmp_path / "lua-filter-2.9"
    shutil.copytree(ROOT / "cases" / "lua-filter-2.9", case_dir)
    path = case_dir / "case.toml"
    v = load_case(case_dir).variant("mixed-load")
    write_entry(v, "2.8", {"fixed_in": "2.8.9", "evidence": "e"})
    write_entry(v, "2.6", {"fixed_in": "2.6.17", "evidence": "f"})
    data = tomllib.loads(path.read_text())
    assert data["variants"]["mixed-load"]["branches"]["2.8"] == {"fixed_in": "2.8.9", "evidence": "e"}
    assert data["variants"]["mixed-load"]["branches"]["2.6"] == {"fixed_in": "2.6.17", "untestable": ["2.6.12"],
                                                                 "evidence": "f"}   # keys it does not measure kept
    assert data["branches"]["2.8"]["fixed_in"] == "2.8.8"               # the case's own entry is untouched
    case_dir = tmp_path / "canary-crash"
    shutil.copytree(ROOT / "cases" / "canary-crash", case_dir)
    v = load_case(case_dir).variant("sigsegv")
    write_entry(v, "3.0", {"status": "not-affected", "evidence": "e"})
    assert load_case(case_dir).branches["3.0"]["status"] == "not-affected"


def test_usage_errors_exit_2_before_any_check(capsys):
    assert main(["range", "quic-uaf-2.9", "--branch", "2.9"]) == 2      # three variants: name one
    assert main(["range", "tcp-leak-2.8", "--branch", "28"]) == 2
    assert "--branch expects X.Y" in capsys.readouterr().err


def test_all_branches_searches_every_branch_the_variant_names(monkeypatch, capsys):
    import harness.range
    seen = []

    def fake_run_range(v, branch, runs, profile):
        seen.append(branch)
        releases = [f"{branch}.{i}" for i in range(4)]
        return search(v, branch, releases, lambda x: Step(x, "untestable" if branch == "3.0" else "held", 1, 1))
    monkeypatch.setattr(harness.range, "run_range", fake_run_range)
    assert main(["range", "tcp-leak-2.8", "--all-branches"]) == 1       # 3.0 could not conclude
    assert seen == ["2.6", "2.8", "3.0"]
    out = capsys.readouterr().out
    assert "on 2.6: not affected" in out and "on 3.0: undecided" in out
