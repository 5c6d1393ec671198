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


def _cells(branches: dict, newest: dict[str, str], cells: dict[str, str]) -> None:
    """Add one branch table's releases to cells (haproxy -> role; a release keeps its first role)."""
    for branch, b in sorted(branches.items(), key=lambda kv: version_key(kv[0])):
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


def entries_for(case: Case, newest: dict[str, str] | None = None) -> list[dict]:
    """A cell runs every variant of the case (`hrt check CASE`); the releases are the union of the
    variants' own branch tables (a variant may reproduce another bug of the report, fixed elsewhere)."""
    newest = newest or {}
    profile = case.variants[0].profile
    versioned = [v for v in case.variants if not v.expect]
    if not versioned:   # a control: its expectation does not depend on the version
        return [{"case": case.id, "haproxy": CONTROL_RELEASE, "profile": profile, "role": "control"}]
    cells: dict[str, str] = {}
    for v in versioned:
        _cells(v.branches, newest, cells)
    return [{"case": case.id, "haproxy": h, "profile": profile, "role": cells[h]}
            for h in sorted(cells, key=_release_order)]


def _release_order(haproxy: str) -> tuple:
    """Releases in version order; a branch SPEC (its newest release, resolved later) last in its branch."""
    key = version_key(haproxy)
    return key if len(key) > 2 else (*key, float("inf"))


def matrix(cases: list[Case] | None = None, newest: dict[str, str] | None = None) -> list[dict]:
    cases = cases if cases is not None else all_cases()
    if newest is None:
        newest = newest_releases({br for c in cases for v in c.variants for br in v.branches})
    return [e for c in cases for e in entries_for(c, newest)]


def github(entries: list[dict]) -> str:
    """One line for `echo "matrix=$(hrt matrix --format github)" >> "$GITHUB_OUTPUT"`."""
    return json.dumps({"include": entries}, separators=(",", ":"))
