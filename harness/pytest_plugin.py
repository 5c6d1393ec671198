"""pytest plugin: `pytest --haproxy SPEC cases/` runs every case variant as a test item.

Mapping (README, "The CLI"): verdict matches expectation → pass; reproduced where fixed → fail "regression";
held where affected → fail "did not reproduce"; untestable → skip with the reason.
"""
import pytest

from .case import load_case
from .verdict import Verdict


def pytest_addoption(parser):
    group = parser.getgroup("hrt")
    group.addoption("--haproxy", action="append", default=[], metavar="SPEC",
                    help="HAProxy to run the cases against (repeatable)")
    group.addoption("--profile", default=None, help="build profile (default: each case's own)")
    group.addoption("--runs", type=int, default=None, help="runs per variant (default: the case's)")


def pytest_collect_file(parent, file_path):
    if file_path.name == "case.toml" and parent.config.getoption("haproxy"):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    def collect(self):
        case = load_case(self.path.parent)
        for spec in self.config.getoption("haproxy"):
            for variant in case.variants:
                yield CaseItem.from_parent(self, name=f"{variant.id}[{spec}]", variant=variant, spec=spec)


class CaseItem(pytest.Item):
    def __init__(self, *, variant, spec, **kwargs):
        super().__init__(**kwargs)
        self.variant = variant
        self.spec = spec
        self.add_marker(pytest.mark.case)

    def runtest(self):
        from .runner import check
        r = check(self.variant, self.spec, runs=self.config.getoption("runs"),
                  profile=self.config.getoption("profile"))
        self.user_properties += [("verdict", r.verdict), ("expected", r.expected), ("version", r.version),
                                 ("rate", r.rate), ("evidence", ";".join(r.evidence[:5]))]
        if r.verdict == Verdict.ERROR:   # the harness or the case failed: never a pass
            raise CaseMismatch(f"error: {r.case} on {r.version or r.haproxy}: {r.reason}")
        if r.verdict == Verdict.UNTESTABLE:
            pytest.skip(f"untestable: {r.reason}")
        if not r.matches:
            raise CaseMismatch(f"{r.mismatch}: {r.case} on {r.version}: expected {r.expected} "
                               f"({r.expected_why}), got {r.verdict}: {r.reason}")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseMismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


class CaseMismatch(AssertionError):
    pass
