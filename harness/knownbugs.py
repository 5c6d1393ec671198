"""The answer to "is my HAProxy affected, and what do I upgrade to?", from a set of check results.

One row per known bug (a case: one reported bug) and per HAProxy checked: affected / not affected /
could not test, judged against the case's expectation, with the first fixed release of that branch from
the case's `[branches]` and the fix commits. The sensitivity controls (variants with a constant `expect`,
and the canary cases) answer a different question, "does the harness still see bugs?", so they are kept
apart. Used by the HTML report's lead section and by `hrt test`'s first lines.
"""
import re
from dataclasses import dataclass, field
from functools import cache

from rich.markup import escape

from .case import Variant, find
from .errors import CaseError
from .result import CheckResult
from .spec import version_key
from .verdict import DECIDED, Verdict

RELEASE_RE = re.compile(r"^(\d+\.\d+)(?:\.(\d+))?")
TONES = ("contradiction", "affected", "untested", "clear")
TONE_STYLE = {"contradiction": "bold red", "affected": "dark_orange", "clear": "green", "untested": "dim"}


@cache
def _variant(case_id: str) -> Variant | None:
    """The variant a result names ("case/variant" or "case"); None when it is no longer in this checkout."""
    try:
        return find(case_id)[0]
    except CaseError:
        return None


def is_control(case_id: str) -> bool:
    v = _variant(case_id)
    return case_id.startswith("canary-") or bool(v and v.expect)


def _release(r: CheckResult) -> str:
    """X.Y.Z of the HAProxy a result ran on ("" for a git build), else its branch X.Y."""
    for text in (r.version or "", r.haproxy):
        m = RELEASE_RE.match(text)
        if m:
            return m.group(0)
    return ""


def _branch(r: CheckResult) -> str:
    return ".".join(_release(r).split(".")[:2])


@dataclass
class Cell:
    tone: str                       # contradiction | affected | clear | untested
    label: str                      # "affected, as expected", "could not test", ...
    advice: str = ""                # "upgrade to 2.8.14", "fixed in 2.8.14", ...
    why: str = ""                   # what could not be tested, or what contradicts
    first_fixed: bool = False       # this HAProxy is the branch's first fixed release
    checks: list = field(default_factory=list)   # the results behind the cell


@dataclass
class Row:
    case: str
    title: str
    upstream: str = ""
    fix_commits: tuple = ()
    fixed_in: dict = field(default_factory=dict)  # branch -> first fixed release
    cells: dict = field(default_factory=dict)     # column -> Cell

    @property
    def commits_text(self) -> str:
        return ", ".join(c[:9] for c in self.fix_commits)

    @property
    def rank(self) -> tuple:
        """Contradictions first, then affected, untested, clear."""
        return min((TONES.index(c.tone) for c in self.cells.values()), default=len(TONES)), self.case

    @property
    def upstream_label(self) -> str:
        m = re.search(r"github\.com/([^/]+/[^/]+)/issues/(\d+)", self.upstream)
        return f"haproxy#{m.group(2)}" if m and m.group(1) == "haproxy/haproxy" else self.upstream


def _bug_row(case_id: str) -> Row:
    v = _variant(case_id)
    if v is None:
        return Row(case_id, f"{case_id} (no longer in this checkout)")
    variants = [x for x in v.case.variants if not x.expect]
    fixed = {}
    for x in variants:
        for branch, b in x.branches.items():
            if "fixed_in" in b:   # fixed for every variant only in the latest of their fixes
                fixed[branch] = max(fixed.get(branch, b["fixed_in"]), b["fixed_in"], key=version_key)
    commits = tuple(dict.fromkeys(c for x in variants for c in x.fix_commits))
    return Row(case_id, v.case.title, v.case.upstream, commits, fixed)


def _short(text: str, n: int = 160) -> str:
    return " ".join(text.split())[:n]


def _bug_cell(row: Row, checks: list[CheckResult]) -> Cell:
    reproduced = [r for r in checks if r.verdict == Verdict.REPRODUCED]
    held = [r for r in checks if r.verdict == Verdict.HELD]
    regression = [r for r in checks if r.mismatch == "regression"]
    lost = [r for r in checks if r.mismatch == "did not reproduce"]
    if regression:
        cell = Cell("contradiction", "AFFECTED, expected not", why="reproduced where the case says fixed or not "
                    "affected: " + ", ".join(r.case for r in regression))
    elif lost:
        cell = Cell("contradiction", ("affected" if reproduced else "not affected") + ", expected affected",
                    why="did not reproduce where the case says affected (a reproducer that lost its teeth?): "
                        + ", ".join(r.case for r in lost))
    elif reproduced:
        cell = Cell("affected", "affected, as expected" if all(r.expected == Verdict.REPRODUCED for r in reproduced)
                    else "affected")
    elif held:
        cell = Cell("clear", "not affected, as expected" if all(r.expected == Verdict.HELD for r in held)
                    else "not affected")
        weak = [r.power() for r in held if r.weak]
        if weak:   # a held short of its power target (harness/power.py) is weaker evidence: say so
            cell.label += f" (weak, power {int(min(weak) * 1000) / 1000})"
    else:   # untestable, or the harness failed (verdict error)
        failed = next((r for r in checks if r.verdict == Verdict.ERROR), checks[0])
        cell = Cell("untested", "could not test" + (" (harness error)" if failed.verdict == Verdict.ERROR else ""),
                    why=_short(failed.reason))
    expected = {r.expected for r in checks}
    release, branch = _release(checks[0]), _branch(checks[0])
    fixed = row.fixed_in.get(branch)
    is_release = release.count(".") == 2
    if fixed and is_release:
        cell.first_fixed = release == fixed
        if version_key(release) < version_key(fixed):
            if reproduced or Verdict.REPRODUCED in expected:
                cell.advice = f"upgrade to {fixed}"
        else:
            cell.advice = f"fixed in {fixed}"
    elif reproduced and branch:
        cell.advice = f"no fixed {branch} release known"
    cell.checks = checks
    return cell


def _control_cell(checks: list[CheckResult]) -> Cell:
    r = next((r for r in checks if r.mismatch), None) or next(
        (r for r in checks if r.verdict != Verdict.UNTESTABLE), checks[0])
    if r.mismatch:
        return Cell("contradiction", f"{r.verdict}, expected {r.expected}", why=_short(r.reason), checks=checks)
    if r.verdict not in DECIDED:
        return Cell("untested", "could not test" + (" (harness error)" if r.verdict == Verdict.ERROR else ""),
                    why=_short(r.reason), checks=checks)
    return Cell("clear", f"{r.verdict}, as expected", checks=checks)


@dataclass
class Column:
    key: str        # the SPEC the checks were run with (2.8, 2.8.13, git:...)
    label: str      # the SPEC and, when it differs, what it resolved to


def known_bugs(results: list[CheckResult]) -> tuple[list[Column], list[Row], list[Row]]:
    """(columns, bug rows, control rows) over results."""
    def key(c: str):
        rs = [r for r in results if r.haproxy == c]
        return min((version_key(_release(r)) if _release(r) else (999,)) for r in rs), c
    columns = []
    for c in sorted({r.haproxy for r in results}, key=key):
        resolved = {_release(r) for r in results if r.haproxy == c} - {"", c}
        short = c if len(c) <= 32 else f"{c[:16]}…{c[-15:]}"   # bin:/long/path/haproxy
        columns.append(Column(c, f"{short} ({', '.join(sorted(resolved))})" if resolved else short))
    bugs, controls = {}, {}
    for r in results:
        if is_control(r.case):
            controls.setdefault(r.case, {}).setdefault(r.haproxy, []).append(r)
        else:
            bugs.setdefault(r.case.split("/")[0], {}).setdefault(r.haproxy, []).append(r)
    bug_rows = []
    for case_id in sorted(bugs):
        row = _bug_row(case_id)
        row.cells = {c: _bug_cell(row, checks) for c, checks in bugs[case_id].items()}
        bug_rows.append(row)
    control_rows = []
    for case_id in sorted(controls):
        v = _variant(case_id)
        row = Row(case_id, v.case.title if v else case_id)
        row.cells = {c: _control_cell(checks) for c, checks in controls[case_id].items()}
        control_rows.append(row)
    return columns, sorted(bug_rows, key=lambda r: r.rank), sorted(control_rows, key=lambda r: r.rank)


def summary_text(results: list[CheckResult], markup: bool = False) -> str:
    """The answer in a few lines per HAProxy, for the terminal (rich markup when markup=True)."""
    columns, bugs, controls = known_bugs(results)
    paint = (lambda tone, text: f"[{TONE_STYLE[tone]}]{escape(text)}[/]") if markup else (lambda tone, text: text)
    text = escape if markup else str
    lines = []
    for col in columns:
        lines.append(f"Known bugs in HAProxy {text(col.label)}:")
        for row in bugs:
            cell = row.cells.get(col.key)
            if not cell:
                continue
            fix = f" (fix {row.commits_text})" if row.fix_commits and cell.advice.startswith("upgrade") else ""
            tail = "; ".join(filter(None, [cell.advice + fix, _short(cell.why, 90)]))
            link = f" {row.upstream_label}" if row.upstream else ""
            lines.append(f"  {paint(cell.tone, f'{cell.label:<26}')} {text(row.case)}{text(link)}: "
                         f"{text(_short(row.title, 56))}" + (f" — {text(tail)}" if tail else ""))
        cells = [(row, row.cells[col.key]) for row in controls if col.key in row.cells]
        if cells:
            ok = sum(c.tone == "clear" for _, c in cells)
            lines.append(f"  harness self-check: {ok}/{len(cells)} controls as expected" + "".join(
                f"; {paint(c.tone, row.case + ' ' + c.label)}" for row, c in cells if c.tone != "clear"))
    return "\n".join(lines)
