"""The CI matrix: cases × (last affected, first fixed, newest) release per measured branch, plus the controls.

Only the branches a case's metadata names get cells: on another branch its expectation is unknown, so a
cell there could never fail and would only spend CI time.
"""
import json

from .case import Case, all_cases
from .catalog import ReleaseIndex
from .errors import HrtError
from .spec import version_key

CONTROL_RELEASE = "3.0.11"   # buildable offline from Debian's archive


def _previous(version: str) -> str | None:
    major, minor, patch = version_key(version)
    return f"{major}.{minor}.{patch - 1}" if patch > 0 else None


def newest_releases(branches: set[str]) -> dict[str, str]:
    """The newest release of each branch the release index knows. A branch it cannot tell (offline, no
    index) stays out: its cell keeps the branch SPEC, which `hrt check` resolves to the newest reachable."""
    try:
        index = ReleaseIndex.load(sorted(branches))
    except HrtError:
        return {}
    return {b: rs[0].version for b in branches if (rs := index.releases(b))}


def entries_for(case: Case, newest: dict[str, str] | None = None) -> list[dict]:
    newest = newest or {}
    profile = case.variants[0].profile
    if all(v.expect for v in case.variants):   # a control: its expectation does not depend on the version
        return [{"case": case.id, "haproxy": CONTROL_RELEASE, "profile": profile, "role": "control"}]
    cells: dict[str, str] = {}   # haproxy -> role; a release keeps the first role it gets
    for branch, b in sorted(case.branches.items(), key=lambda kv: version_key(kv[0])):
        top = newest.get(branch, branch)
        if b.get("status") == "not-affected":
            cells.setdefault(top, "not affected")
            continue
        fixed = b.get("fixed_in")
        if not fixed:  # no fix on this branch yet: its newest release is the last affected
            cells.setdefault(top, "last affected")
            continue
        last_bad = _previous(fixed)
        if last_bad and version_key(last_bad) >= version_key(b.get("affected_from", last_bad)):
            cells.setdefault(last_bad, "last affected")
        cells.setdefault(fixed, "first fixed")
        cells.setdefault(top, "newest")
    return [{"case": case.id, "haproxy": h, "profile": profile, "role": role} for h, role in cells.items()]


def matrix(cases: list[Case] | None = None, newest: dict[str, str] | None = None) -> list[dict]:
    cases = cases if cases is not None else all_cases()
    if newest is None:
        newest = newest_releases({br for c in cases for br in c.branches})
    return [e for c in cases for e in entries_for(c, newest)]


def github(entries: list[dict]) -> str:
    """One line for `echo "matrix=$(hrt matrix --format github)" >> "$GITHUB_OUTPUT"`."""
    return json.dumps({"include": entries}, separators=(",", ":"))
