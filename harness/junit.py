"""JUnit XML for CI from `hrt check`/`hrt test` results (junitparser writes the format).

One testcase per checked variant. A verdict that contradicts its expectation is a failure; untestable is
a skip with its reason, except under `--strict` (CI), where untestable where a verdict was expected fails.
"""
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped, TestCase, TestSuite

from .result import CheckResult
from .verdict import Verdict


def testcase(r: CheckResult, strict: bool = False) -> TestCase:
    tc = TestCase(f"{r.case}[{r.haproxy}]", classname=r.case.split("/")[0], time=round(r.seconds, 1))
    failure = r.failure(strict)
    if failure == Verdict.ERROR:   # the harness or the case failed: a JUnit error, not a verdict
        tc.result = [Error(r.reason[:1000], type_="error")]
    elif failure:
        tc.result = [Failure(f"{failure}: expected {r.expected}, got {r.verdict}: {r.reason[:500]}", type_=failure)]
    elif r.verdict == Verdict.UNTESTABLE:
        tc.result = [Skipped(f"untestable: {r.reason[:500]}")]
    props = Properties()
    for name, value in (("version", r.version), ("commit", r.commit or ""), ("profile", r.profile),
                        ("expected", r.expected), ("verdict", r.verdict),
                        ("runs", f"{r.reproduced_runs}/{len(r.runs)}"), ("bound", r.bound_text())):
        props.add_property(Property(name, value))
    tc.append(props)
    tc.system_out = "\n".join([r.reason, *r.evidence])
    return tc


def write_junit(path: Path, results: list[CheckResult], name: str, strict: bool = False) -> Path:
    suite = TestSuite(name)
    for r in results:
        suite.add_testcase(testcase(r, strict))
    xml = JUnitXml()
    xml.add_testsuite(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    xml.write(str(path), pretty=True)
    return path
