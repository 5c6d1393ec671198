import pytest

from harness.errors import CaseError
from harness.paths import CONFIGS_DIR
from harness.templates import render


@pytest.fixture
def tdir(tmp_path):
    d = tmp_path / "cfgs"   # any directory (HRT_CONFIGS_DIR), not only haproxy_configs/
    d.mkdir()
    return d


def put(d, name, text):
    (d / name).write_text(text)
    return name


def test_renders_with_params_and_trailing_newline(tdir):
    put(tdir, "a.cfg.j2", "global\n    nbthread {{ nbthread }}")   # no final LF in the template
    out = render("a.cfg.j2", {"nbthread": 2}, tdir)
    assert out == "global\n    nbthread 2\n"


def test_existing_trailing_newline_not_doubled(tdir):
    put(tdir, "a.cfg.j2", "global\n    nbthread {{ nbthread }}\n")
    assert render("a.cfg.j2", {"nbthread": 4}, tdir) == "global\n    nbthread 4\n"


def test_empty_template_still_ends_with_newline(tdir):
    put(tdir, "empty.cfg.j2", "")
    assert render("empty.cfg.j2", {}, tdir).endswith("\n")


def test_block_trimming(tdir):
    put(tdir, "b.cfg.j2", "defaults\n{% if ts %}\n    timeout server {{ ts }}\n{% endif %}\n    mode http\n")
    assert render("b.cfg.j2", {"ts": "2s"}, tdir) == "defaults\n    timeout server 2s\n    mode http\n"
    assert render("b.cfg.j2", {"ts": ""}, tdir) == "defaults\n    mode http\n"


def test_syntax_error_names_file_and_line(tdir):
    put(tdir, "bad.cfg.j2", "global\n    maxconn 10\n{% if %}\n")
    with pytest.raises(CaseError) as exc:
        render("bad.cfg.j2", {}, tdir)
    msg = str(exc.value)
    assert "bad.cfg.j2:3" in msg


def test_syntax_error_in_imported_template_names_that_file(tdir):
    put(tdir, "_lib.j2", "{% macro m() %}\n{{ x }\n{% endmacro %}\n")
    put(tdir, "main.cfg.j2", '{% import "_lib.j2" as lib %}\nglobal\n')
    with pytest.raises(CaseError) as exc:
        render("main.cfg.j2", {}, tdir)
    assert "_lib.j2:2" in str(exc.value)


def test_undefined_variable_names_template_and_line(tdir):
    put(tdir, "u.cfg.j2", "global\n    nbthread {{ nbthread }}\n    maxconn {{ maxconn }}\n")
    with pytest.raises(CaseError) as exc:
        render("u.cfg.j2", {"nbthread": 2}, tdir)
    msg = str(exc.value)
    assert "u.cfg.j2:3" in msg
    assert "maxconn" in msg and "missing parameter" in msg


def test_undefined_in_condition_is_an_error(tdir):
    put(tdir, "c.cfg.j2", "{% if timeout_server %}x{% endif %}\n")
    with pytest.raises(CaseError, match="timeout_server"):
        render("c.cfg.j2", {}, tdir)


def test_undefined_inside_imported_macro_names_the_macro_file(tdir):
    put(tdir, "_common.j2", "{% macro global_lines() -%}\n    stats socket {{ stats_sock }}\n{%- endmacro %}\n")
    put(tdir, "m.cfg.j2", '{% import "_common.j2" as common with context %}\nglobal\n{{ common.global_lines() }}\n')
    with pytest.raises(CaseError) as exc:
        render("m.cfg.j2", {}, tdir)
    assert "_common.j2:2" in str(exc.value)
    assert "stats_sock" in str(exc.value)


def test_undefined_variable_names_a_template_without_j2_suffix(tdir):
    """The message names the template whatever its file name is."""
    put(tdir, "plain.cfg", "global\n    maxconn {{ maxconn }}\n")
    with pytest.raises(CaseError) as exc:
        render("plain.cfg", {}, tdir)
    assert "plain.cfg" in str(exc.value)


def test_template_not_found(tdir):
    with pytest.raises(CaseError) as exc:
        render("absent.cfg.j2", {}, tdir)
    assert "absent.cfg.j2" in str(exc.value) and str(tdir) in str(exc.value)


def test_project_templates_render():
    params = dict(stats_sock="/w/stats.sock", nbthread=2, fe_port=8080, srv_port=9000, timeout_client="5s",
                  timeout_server="2s")
    names = sorted(p.name for p in CONFIGS_DIR.glob("*.j2") if not p.name.startswith("_"))
    assert names
    for name in names:
        try:
            out = render(name, params)
        except CaseError as exc:   # a template needing more params must still say which one
            msg = str(exc)
            assert "missing parameter" in msg and (name in msg or "_common.j2" in msg), msg
            continue
        assert out.endswith("\n")
        assert "/w/stats.sock" in out
