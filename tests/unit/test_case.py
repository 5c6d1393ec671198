import textwrap
from pathlib import Path

import pytest

import harness.case
from harness.case import all_cases, find, load_case
from harness.errors import CaseError
from harness.oracles import REGISTRY

MINIMAL = """\
title = "a minimal case"
template = "t.cfg.j2"
oracles = [{ name = "crash" }]
"""

FULL = """\
title = "tunnel streams left with no timer"
seed = "001_x.txt"
upstream = "https://github.com/haproxy/haproxy/issues/2754"
template = "t.cfg.j2"
profile = "default"
requires = ["lua"]
runs = 3
timeout = 45
probabilistic = true
fix_commits = ["fbc3de6e9e59679d2e9ece3984ce31b6a7dd418f"]
params = { streams = 50, timeout_server = "2s" }
haproxy_args = ["-dMno-cache"]
oracles = [
    { name = "stuck-streams", frontend = "fe_leak", expected = 50 },
    { name = "resources", gate = false },
]

[branches."2.8"]
affected_from = "2.8.0"
fixed_in = "2.8.13"

[branches."2.6"]
status = "not-affected"

[variants.recipe]
title = "the recipe"

[variants.control]
params = { timeout_server = "" }
expect = "reproduced"
runs = 1
oracles = [{ name = "crash" }]

[variants.second-bug]
fix_commits = ["07b2e84bce518cc6321e8c9014f75669993dac7c"]
introduced_by = "09133860b1b3dcb9a59ab4fe4fb8d9bd50cd8dc5"
branches = { "2.8" = { affected_from = "2.8.4", fixed_in = "2.8.8" } }
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A cases dir and a configs dir (harness.case.CONFIGS_DIR patched); returns a case writer."""
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "t.cfg.j2").write_text("global\n")
    monkeypatch.setattr(harness.case, "CONFIGS_DIR", configs)
    cases = tmp_path / "cases"
    cases.mkdir()

    def write(toml: str, name: str = "my-case", scenario: bool = True) -> Path:
        d = cases / name
        d.mkdir()
        (d / "case.toml").write_text(textwrap.dedent(toml))
        if scenario:
            (d / "scenario.py").write_text("def run(ctx):\n    return None\n")
        return d
    write.cases = cases
    return write


def expect_error(directory: Path, *fragments: str) -> str:
    with pytest.raises(CaseError) as exc:
        load_case(directory)
    msg = str(exc.value)
    assert str(directory / "case.toml") in msg, msg
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"
    return msg


# ---- valid cases -----------------------------------------------------------------------------------

def test_minimal_case(env):
    d = env(MINIMAL)
    case = load_case(d)
    assert case.id == "my-case"
    assert case.title == "a minimal case"
    assert case.template == "t.cfg.j2"
    assert case.scenario_path == d / "scenario.py"
    assert case.branches == {} and case.fix_commits == () and case.introduced_by == ()
    assert len(case.variants) == 1
    v = case.variants[0]
    assert v.name == "" and v.id == "my-case"
    assert v.expect == "" and v.runs == 1 and v.timeout == 60.0 and v.profile == "default"
    assert [(o.name, o.gate, o.options) for o in v.oracles] == [("crash", True, {})]
    assert callable(case.scenario().run)


def test_full_case_with_variants(env):
    case = load_case(env(FULL))
    assert case.probabilistic is True
    assert case.requires == ("lua",)
    assert case.fix_commits == ("fbc3de6e9e59679d2e9ece3984ce31b6a7dd418f",)
    assert case.branches["2.8"] == {"affected_from": "2.8.0", "fixed_in": "2.8.13"}
    assert case.branches["2.6"] == {"status": "not-affected"}
    recipe, control, second = case.variants
    assert recipe.id == "my-case/recipe"
    assert recipe.fix_commits == case.fix_commits and recipe.introduced_by == ()   # inherited
    assert recipe.branches == case.branches
    assert second.fix_commits == ("07b2e84bce518cc6321e8c9014f75669993dac7c",)       # its own bug
    assert second.introduced_by == ("09133860b1b3dcb9a59ab4fe4fb8d9bd50cd8dc5",)
    assert second.branches["2.8"] == {"affected_from": "2.8.4", "fixed_in": "2.8.8"}   # its own range
    assert second.branches["2.6"] == case.branches["2.6"]                              # the case's
    assert recipe.params == {"streams": 50, "timeout_server": "2s"}
    assert recipe.runs == 3 and recipe.timeout == 45.0 and recipe.haproxy_args == ("-dMno-cache",)
    assert [o.name for o in recipe.oracles] == ["stuck-streams", "resources"]
    assert recipe.oracles[0].options == {"frontend": "fe_leak", "expected": 50}
    assert recipe.oracles[1].gate is False
    assert control.params == {"streams": 50, "timeout_server": ""}   # merged over the case's params
    assert control.expect == "reproduced" and control.runs == 1
    assert [o.name for o in control.oracles] == ["crash"]
    assert case.variant("control") is control
    with pytest.raises(CaseError, match="no variant 'nope'; it has: recipe, control, second-bug"):
        case.variant("nope")


def test_find_selectors(env):
    env(FULL)
    assert [v.id for v in find("my-case", env.cases)] == ["my-case/recipe", "my-case/control",
                                                             "my-case/second-bug"]
    assert [v.id for v in find("my-case/control", env.cases)] == ["my-case/control"]
    with pytest.raises(CaseError, match="unknown case 'other'; known: my-case"):
        find("other", env.cases)


def test_all_cases_in_a_directory(env):
    env(MINIMAL, "b-case")
    env(MINIMAL, "a-case")
    (env.cases / "not-a-case").mkdir()
    assert [c.id for c in all_cases(env.cases)] == ["a-case", "b-case"]


def test_project_cases_load():
    cases = all_cases()
    assert cases, "the project has cases"
    for case in cases:
        assert case.variants
        for v in case.variants:
            assert v.oracles and all(o.name in REGISTRY for o in v.oracles)
            assert v.expect in ("", "reproduced", "held")
        assert callable(case.scenario().run)


# ---- malformed cases: each error names the file and the field or line ------------------------------

def test_missing_case_toml(env, tmp_path):
    d = tmp_path / "cases" / "empty"
    d.mkdir()
    expect_error(d, "missing")


def test_toml_syntax_error_names_line(env):
    d = env('title = "x"\ntemplate = "t.cfg.j2"\noracles = [{ name = "crash" }\nruns = 1\n')
    expect_error(d, "Unclosed array", "line 4")


def test_toml_syntax_error_line_number_exact(env):
    d = env('title = "x"\ntemplate = "t.cfg.j2"\nruns = = 1\n')
    expect_error(d, "line 3")


def test_unknown_top_level_field(env):
    d = env(MINIMAL + 'fixed_in = "2.8.13"\n')
    expect_error(d, "top level", "fixed_in", "allowed:")


@pytest.mark.parametrize("field", ["title", "template", "oracles"])
def test_required_field_missing(env, field):
    text = "\n".join(line for line in MINIMAL.splitlines() if not line.startswith(field)) + "\n"
    expect_error(env(text), field, "required field missing")


def test_unknown_oracle(env):
    d = env(MINIMAL.replace('name = "crash"', 'name = "segfault"'))
    expect_error(d, "oracles[0].name", "unknown oracle 'segfault'", "crash", "stuck-streams")


def test_unknown_oracle_in_variant(env):
    d = env(MINIMAL + '[variants.v]\noracles = [{ name = "crash" }, { name = "nope" }]\n')
    expect_error(d, "variants.v.oracles[1].name", "unknown oracle 'nope'")


def test_no_gating_oracle(env):
    d = env(MINIMAL.replace('{ name = "crash" }', '{ name = "crash", gate = false }'))
    expect_error(d, "oracles", "at least one oracle must gate")


def test_oracles_not_a_list(env):
    d = env(MINIMAL.replace('oracles = [{ name = "crash" }]', 'oracles = "crash"'))
    expect_error(d, "oracles", "expected list")


@pytest.mark.parametrize("value", ['"fixed"', '"Reproduced"', '"untestable"', "true"])
def test_bad_expect(env, value):
    d = env(MINIMAL + f"expect = {value}\n")
    expect_error(d, "expect", "must be one of reproduced, held")


def test_bad_expect_in_variant(env):
    d = env(MINIMAL + '[variants.ctl]\nexpect = "crash"\n')
    expect_error(d, "variants.ctl.expect", "'crash'")


@pytest.mark.parametrize("value", ['"2.8"', '"v2.8.13"', '"2.8.13-1"', "2.813"])
def test_bad_fixed_in(env, value):
    d = env(MINIMAL + f'[branches."2.8"]\nfixed_in = {value}\n')
    expect_error(d, "branches.2.8.fixed_in", "expected a release X.Y.Z")


def test_bad_affected_from(env):
    d = env(MINIMAL + '[branches."3.0"]\naffected_from = "3.0"\n')
    expect_error(d, "branches.3.0.affected_from")


def test_bad_branch_status(env):
    d = env(MINIMAL + '[branches."2.8"]\nstatus = "fixed"\n')
    expect_error(d, "branches.2.8.status", "affected, not-affected, untestable", "'fixed'")


@pytest.mark.parametrize("value,fragments", [('["2.9.1"]', ("branches.2.8.untestable[0]", "a release of 2.8")),
                                             ('"2.8.8"', ("branches.2.8.untestable", "expected list"))])
def test_untestable_releases_must_be_releases_of_their_branch(env, value, fragments):
    d = env(MINIMAL + f'[branches."2.8"]\nuntestable = {value}\n')
    expect_error(d, *fragments)


def test_unknown_branch_field(env):
    d = env(MINIMAL + '[branches."2.8"]\nfixed = "2.8.13"\n')
    expect_error(d, "branches.2.8", "unknown field(s) fixed")


def test_unknown_variant_field(env):
    d = env(MINIMAL + '[variants.v]\nfixed_in = "2.8.1"\n')
    expect_error(d, "variants.v", "unknown field(s) fixed_in")


def test_bad_commit_id(env):
    d = env(MINIMAL + 'fix_commits = ["v2.8.1"]\n')
    expect_error(d, "fix_commits[0]", "expected a commit id")


def test_missing_template_file(env):
    d = env(MINIMAL.replace("t.cfg.j2", "absent.cfg.j2"))
    expect_error(d, "template", "absent.cfg.j2", "does not exist")


def test_template_not_a_string(env):
    d = env(MINIMAL.replace('template = "t.cfg.j2"', "template = 3"))
    expect_error(d, "template", "expected str")


def test_missing_scenario(env):
    d = env(MINIMAL, scenario=False)
    expect_error(d, "scenario", str(d / "scenario.py"), "does not exist")


def test_named_scenario_missing(env):
    d = env(MINIMAL + 'scenario = "drive.py"\n')
    expect_error(d, "scenario", "drive.py", "does not exist")


def test_unknown_profile(env):
    d = env(MINIMAL + 'profile = "tsan"\n')
    expect_error(d, "profile", "unknown profile 'tsan'")


def test_params_not_a_table(env):
    d = env(MINIMAL + 'params = "x"\n')
    expect_error(d, "params", "expected dict")


@pytest.mark.parametrize("field,value", [("runs", '"ten"'), ("timeout", '"1m"'), ("runs", "[1]")])
def test_bad_numbers_are_case_errors(env, field, value):
    """A non-numeric runs/timeout is a malformed case (CaseError naming the field), not a traceback."""
    d = env(MINIMAL + f"{field} = {value}\n")
    expect_error(d, field)


def test_scenario_syntax_error_names_line(env):
    d = env(MINIMAL)
    (d / "scenario.py").write_text("def run(ctx):\n    return (\n")
    with pytest.raises(CaseError) as exc:
        load_case(d).scenario()
    assert str(d / "scenario.py") in str(exc.value)


def test_scenario_without_run(env):
    d = env(MINIMAL)
    (d / "scenario.py").write_text("x = 1\n")
    with pytest.raises(CaseError, match="defines no run"):
        load_case(d).scenario()


# ---- files copied into HAProxy's work dir ----------------------------------------------------------

def test_files_listed_and_present(env):
    d = env(MINIMAL + 'files = ["flt_global.lua", "flt_thread.lua"]\n')
    (d / "flt_global.lua").write_text("-- g\n")
    (d / "flt_thread.lua").write_text("-- t\n")
    assert load_case(d).files == ("flt_global.lua", "flt_thread.lua")


def test_files_default_empty(env):
    assert load_case(env(MINIMAL)).files == ()


def test_missing_listed_file_names_file_and_field(env):
    d = env(MINIMAL + 'files = ["flt_global.lua", "absent.lua"]\n')
    (d / "flt_global.lua").write_text("-- g\n")
    expect_error(d, "files[1]", str(d / "absent.lua"), "does not exist")


@pytest.mark.parametrize("value", ['"a.lua"', '["../a.lua"]', '["sub/a.lua"]', '[3]', '[""]'])
def test_bad_files_entries(env, value):
    d = env(MINIMAL + f"files = {value}\n")
    expect_error(d, "files")


@pytest.mark.parametrize("oracle,fragments", [
    ('{ name = "crash", require_cores = true }', ("oracles[0].require_cores", "unknown option for oracle crash",
                                                  "require_core")),
    ('{ name = "crash", signals = "SIGSEGV" }', ("oracles[0].signals", "expected list", "'SIGSEGV'")),
    ('{ name = "stuck-streams", frontend = "fe" }', ("oracles[0].expected", "needs this option")),
    ('{ name = "stuck-streams", frontend = "fe", expected = true }', ("oracles[0].expected", "expected int")),
    ('{ name = "answers", pattern = "x" }', ("oracles[0].pattern", "it takes: none")),
])
def test_oracle_options_are_checked_when_the_case_loads(env, oracle, fragments):
    d = env(f'title = "t"\ntemplate = "t.cfg.j2"\noracles = [{oracle}]\n')
    expect_error(d, *fragments)
