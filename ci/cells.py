#!/usr/bin/env python3
"""The CI matrix's groups between the jobs of .github/workflows/hrt.yml (standard library only).

  cells.py select MATRIX.json "NAME ..."   validate `hrt matrix --format github` output; keep the named
                                            groups (all when none is named); print the include object
  cells.py names MATRIX.json                one line per group: name, then its cases
  cells.py missing RESULTS_DIR              compare $MATRIX (the matrix job's output) with the downloaded
                                            artifacts RESULTS_DIR/hrt-<name>/ (a lone artifact: RESULTS_DIR/<name>/):
                                            exit 1 when a group has no directory or no result.json in it
Exit 2 on malformed input: a value that is not what the check job's regexes allow never reaches a runner.
"""
import json
import os
import re
import sys
from pathlib import Path

HAPROXY_RE = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")
ID_RE = re.compile(r"^[a-z0-9.-]+$")
PROFILES = {"default", "quic", "asan"}
KEYS = {"haproxy", "profile", "cases", "roles", "name"}


def fail(msg: str, code: int = 2):
    print(f"cells: {msg}", file=sys.stderr)
    sys.exit(code)


def groups(text: str) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"not JSON: {exc}")
    include = data.get("include") if isinstance(data, dict) else None
    if not isinstance(include, list) or not include:
        fail("no groups: expected {\"include\": [ ... ]} with at least one entry")
    names = set()
    for g in include:
        if not isinstance(g, dict) or set(g) != KEYS or not all(isinstance(v, str) for v in g.values()):
            fail(f"a group needs exactly the string keys {sorted(KEYS)}: {g!r}")
        if not HAPROXY_RE.match(g["haproxy"]):
            fail(f"bad haproxy {g['haproxy']!r}")
        if g["profile"] not in PROFILES:
            fail(f"bad profile {g['profile']!r}")
        cases = g["cases"].split()
        if not cases or not all(ID_RE.match(c) for c in cases) or not ID_RE.match(g["name"]):
            fail(f"bad case or group name in {g!r}")
        if g["name"] in names:
            fail(f"group {g['name']} twice")
        names.add(g["name"])
    return include


def select(path: str, wanted: str) -> None:
    include = groups(Path(path).read_text())
    names = wanted.split()
    if names:
        unknown = sorted(set(names) - {g["name"] for g in include})
        if unknown:
            fail(f"no such group: {' '.join(unknown)} (known: {' '.join(g['name'] for g in include)})")
        include = [g for g in include if g["name"] in names]
    print(json.dumps({"include": include}, separators=(",", ":")))


def missing(results: str) -> int:
    include = groups(os.environ.get("MATRIX", ""))
    root = Path(results)
    lines, bad = ["| group | cases | result.json files |", "|---|---|---|"], []
    for g in include:
        # download-artifact puts each artifact in RESULTS_DIR/<artifact>/, except a lone one, which it
        # unpacks into RESULTS_DIR itself: there the group's own directory (HRT_RESULTS=results/<name>) is
        n = sum(1 for d in (root / f"hrt-{g['name']}", root / g["name"]) if d.is_dir() for _ in d.rglob("result.json"))
        if n == 0:
            bad.append(g["name"])
        lines.append(f"| {g['name']} | {g['cases']} | {n if n else '**missing**'} |")
    print("\n".join(lines))
    if bad:
        print(f"\n{len(bad)} of {len(include)} groups have no results: {' '.join(bad)}")
        return 1
    print(f"\nall {len(include)} groups have results")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "select":
        select(argv[1], argv[2])
        return 0
    if len(argv) == 2 and argv[0] == "names":
        for g in groups(Path(argv[1]).read_text()):
            print(f"{g['name']}: {g['cases']}")
        return 0
    if len(argv) == 2 and argv[0] == "missing":
        return missing(argv[1])
    fail(__doc__.strip())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
