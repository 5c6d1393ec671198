"""The CI matrix: cases × (last affected, first fixed, newest) release per measured branch, plus the controls,
grouped into one job per (HAProxy version, profile) so each version is built once.

Only cells that can give a verdict are listed: a branch a case's metadata does not name (its expectation is
unknown), a branch the case says is untestable, and releases it says are untestable (no build, no trigger
path) get no cell: such a cell could never fail. "First fixed" is the first testable release from the fix on.
"""
import json

from .case import Case, all_cases
from .catalog import ReleaseIndex
from .paths import slug
from .spec import version_key

CONTROL_RELEASE = "3.0.11"   # buildable offline from Debian's archive


def _step(version: str, delta: int, skip: list[str]) -> str | None:
    """The release `delta` (+1/-1) away from version, passing over the untestable ones."""
    major, minor, patch = version_key(version)
    while True:
        patch += delta
        if patch < 0:
            return None
        if (v := f"{major}.{minor}.{patch}") not in skip:
            return v


def newest_releases(branches: set[str]) -> dict[str, str]:
    """The newest release of each branch the release index knows (an unreadable index is an error: a
    matrix made without one would test other releases than the user thinks). A branch the index does not
    know keeps the branch SPEC, which `hrt test` resolves to its newest reachable release or refuses."""
    index = ReleaseIndex.load(sorted(branches))
    return {b: rs[0].version for b in branches if (rs := index.releases(b))}


def _cells(branches: dict, newest: dict[str, str], cells: dict[str, str]) -> None:
    """Add one branch table's releases to cells (haproxy -> role; a release keeps its first role)."""
    for branch, b in sorted(branches.items(), key=lambda kv: version_key(kv[0])):
        if b.get("status") == "untestable":
            continue
        top = newest.get(branch, branch)
        skip = list(b.get("untestable", []))
        if top in skip:
            top = _step(top, -1, skip) or top
        if b.get("status") == "not-affected":
            cells.setdefault(top, "not affected")
            continue
        fixed = b.get("fixed_in")
        if not fixed:  # no fix on this branch yet: its newest release is the last affected
            cells.setdefault(top, "last affected")
            continue
        last_bad = _step(fixed, -1, skip)
        if last_bad and version_key(last_bad) >= version_key(b.get("affected_from", last_bad)):
            cells.setdefault(last_bad, "last affected")
        first_good = fixed if fixed not in skip else _step(fixed, +1, skip)
        cells.setdefault(first_good, "first fixed")
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


def groups(entries: list[dict]) -> list[dict]:
    """One CI job per (HAProxy version, profile): the version is built once and `hrt test` runs its cases."""
    out: dict[tuple, dict] = {}
    for e in entries:
        g = out.setdefault((e["haproxy"], e["profile"]), {
            "haproxy": e["haproxy"], "profile": e["profile"], "cases": [], "roles": [],
            "name": slug(f"{e['haproxy']}-{e['profile']}")})
        g["cases"].append(e["case"])
        g["roles"].append(f"{e['case']}: {e['role']}")
    ordered = sorted(out.values(), key=lambda g: (_release_order(g["haproxy"]), g["profile"]))
    return [{**g, "cases": " ".join(g["cases"]), "roles": "; ".join(g["roles"])} for g in ordered]


def github(entries: list[dict]) -> str:
    """One line of `{"include": [group, ...]}` for `strategy.matrix` (written to $GITHUB_OUTPUT)."""
    return json.dumps({"include": groups(entries)}, separators=(",", ":"))
