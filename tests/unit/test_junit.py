"""JUnit XML from check results: only a contradicted expectation fails; untestable skips."""
from junitparser import Error, Failure, JUnitXml, Properties, Skipped

from harness.junit import write_junit
from tests.unit.test_result import result


def cases(path):
    return {tc.name: tc for suite in JUnitXml.fromfile(str(path)) for tc in suite}


def test_verdicts_map_to_pass_failure_skip(tmp_path):
    ok = result(expected="held", verdict="held")
    ok.haproxy = "2.8.14"
    wrong = result(expected="held", verdict="reproduced", verdicts=("reproduced",), reason="2 stuck streams")
    wrong.haproxy = "2.8.15"
    skip = result(expected="reproduced", verdict="untestable", verdicts=("untestable",), reason="no QUIC")
    skip.haproxy = "2.8.16"
    path = write_junit(tmp_path / "j" / "junit.xml", [ok, wrong, skip], "check")
    got = cases(path)
    assert set(got) == {"tcp-leak-2.8/recipe[2.8.14]", "tcp-leak-2.8/recipe[2.8.15]", "tcp-leak-2.8/recipe[2.8.16]"}
    assert got["tcp-leak-2.8/recipe[2.8.14]"].result == []
    (failure,) = got["tcp-leak-2.8/recipe[2.8.15]"].result
    assert isinstance(failure, Failure) and failure.type == "regression"
    assert "expected held, got reproduced: 2 stuck streams" in failure.message
    (skipped,) = got["tcp-leak-2.8/recipe[2.8.16]"].result
    assert isinstance(skipped, Skipped) and "no QUIC" in skipped.message
    suite = next(iter(JUnitXml.fromfile(str(path))))
    assert (suite.tests, suite.failures, suite.skipped) == (3, 1, 1)


def test_properties_carry_the_verdict_and_runs(tmp_path):
    r = result(expected="reproduced", verdict="reproduced", verdicts=("reproduced", "held"))
    tc = cases(write_junit(tmp_path / "junit.xml", [r], "check"))["tcp-leak-2.8/recipe[2.8.13]"]
    props = {p.name: p.value for p in tc.child(Properties)}
    assert props["verdict"] == "reproduced" and props["runs"] == "1/2" and props["version"] == "2.8.13-0a1b2c3"


def test_strict_makes_untested_cells_failures(tmp_path):
    lost = result(expected="reproduced", verdict="untestable", verdicts=("untestable",), reason="no core file")
    on_purpose = result(expected="untestable", verdict="untestable", verdicts=("untestable",), reason="no build")
    on_purpose.haproxy = "2.8.8"
    got = cases(write_junit(tmp_path / "junit.xml", [lost, on_purpose], "check", strict=True))
    (failure,) = got["tcp-leak-2.8/recipe[2.8.13]"].result
    assert isinstance(failure, Failure) and failure.type == "untested" and "no core file" in failure.message
    (skipped,) = got["tcp-leak-2.8/recipe[2.8.8]"].result
    assert isinstance(skipped, Skipped)


def test_an_errored_check_is_a_junit_error(tmp_path):
    r = result(expected="reproduced", verdict="error", verdicts=("error",),
               reason="the scenario raised ZeroDivisionError: division by zero")
    (error,) = cases(write_junit(tmp_path / "junit.xml", [r], "check"))["tcp-leak-2.8/recipe[2.8.13]"].result
    assert isinstance(error, Error) and "ZeroDivisionError" in error.message
