"""The CI matrix from case metadata, and the GitHub workflow that consumes it."""
import json
import subprocess
import sys
from pathlib import Path

from harness.case import all_cases
from harness.matrix import entries_for, github, matrix

ROOT = Path(__file__).resolve().parents[2]


def case_with(branches, tmp_path, monkeypatch):
    from harness import case as case_mod
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "t.cfg.j2").write_text("global\n")
    monkeypatch.setattr(case_mod, "CONFIGS_DIR", tmp_path / "cfg")
    d = tmp_path / "c1"
    d.mkdir()
    (d / "scenario.py").write_text("def run(ctx):\n    pass\n")
    body = "\n".join(f'[branches."{b}"]\n' + "\n".join(f'{k} = "{v}"' for k, v in kv.items()) for b, kv in branches.items())
    (d / "case.toml").write_text(f'title = "t"\ntemplate = "t.cfg.j2"\noracles = [{{ name = "crash" }}]\n{body}\n')
    return case_mod.load_case(d)


def test_last_affected_and_first_fixed_per_branch(tmp_path, monkeypatch):
    c = case_with({"2.8": {"affected_from": "2.8.0", "fixed_in": "2.8.13"}, "2.6": {"status": "not-affected"},
                   "3.1": {"affected_from": "3.1.0"}}, tmp_path, monkeypatch)
    got = [(e["haproxy"], e["role"]) for e in entries_for(c)]
    assert got == [("2.6", "not affected"), ("2.8.12", "last affected"), ("2.8.13", "first fixed"),
                   ("3.1", "last affected")]


def test_fixed_in_first_affected_release_has_no_last_affected(tmp_path, monkeypatch):
    c = case_with({"2.9": {"affected_from": "2.9.3", "fixed_in": "2.9.3"}}, tmp_path, monkeypatch)
    assert [(e["haproxy"], e["role"]) for e in entries_for(c)] == [("2.9.3", "first fixed")]


def test_project_matrix_is_valid_github_json():
    entries = matrix(all_cases())
    data = json.loads(github(entries))
    assert data["include"] and all({"case", "haproxy", "profile", "role"} <= set(e) for e in data["include"])
    assert {"canary-crash", "canary-stuck-streams"} <= {e["case"] for e in entries}


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
