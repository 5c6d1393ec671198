"""The CI matrix: cases × (last affected, first fixed) release per measured branch, plus the controls."""
import json

from .case import Case, all_cases
from .spec import version_key

CONTROL_RELEASE = "3.0.11"   # buildable offline from Debian's archive


def _previous(version: str) -> str | None:
    major, minor, patch = version_key(version)
    return f"{major}.{minor}.{patch - 1}" if patch > 0 else None


def entries_for(case: Case) -> list[dict]:
    profile = case.variants[0].profile
    if all(v.expect for v in case.variants):   # a control: its expectation does not depend on the version
        return [{"case": case.id, "haproxy": CONTROL_RELEASE, "profile": profile, "role": "control"}]
    out = []
    for branch, b in sorted(case.branches.items(), key=lambda kv: version_key(kv[0])):
        if b.get("status") == "not-affected":
            out.append({"case": case.id, "haproxy": branch, "profile": profile, "role": "not affected"})
            continue
        fixed = b.get("fixed_in")
        if not fixed:  # no fix on this branch yet: its newest release is the last affected
            out.append({"case": case.id, "haproxy": branch, "profile": profile, "role": "last affected"})
            continue
        last_bad = _previous(fixed)
        if last_bad and version_key(last_bad) >= version_key(b.get("affected_from", last_bad)):
            out.append({"case": case.id, "haproxy": last_bad, "profile": profile, "role": "last affected"})
        out.append({"case": case.id, "haproxy": fixed, "profile": profile, "role": "first fixed"})
    return out


def matrix(cases: list[Case] | None = None) -> list[dict]:
    return [e for c in (cases if cases is not None else all_cases()) for e in entries_for(c)]


def github(entries: list[dict]) -> str:
    """One line for `echo "matrix=$(hrt matrix --format github)" >> "$GITHUB_OUTPUT"`."""
    return json.dumps({"include": entries}, separators=(",", ":"))
