"""`ctx` is the whole scenario API: no case reaches into Docker, the runner or a container by itself."""
import ast
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parents[2] / "cases"
# what only the scaffold may touch: Docker, containers, instances and networks it owns, the runner
FORBIDDEN_MODULES = ("docker", "harness.dockerenv", "harness.instance", "harness.network", "harness.runner",
                     "harness.templates", "harness.sidecar")
FORBIDDEN_ATTRS = {"container", "exec_create", "exec_inspect", "exec_start", "containers", "host_pid"}
SOURCES = sorted(p for p in CASES.glob("*/*.py") if not p.name.startswith("test_"))


def reaches(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith(FORBIDDEN_MODULES)]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(FORBIDDEN_MODULES):
            found.append(node.module)
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS:
            found.append(f".{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/work/"):
            found.append(f"hard-coded container path {node.value!r} (line {node.lineno})")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_code_stays_behind_ctx(path):
    assert not reaches(ast.parse(path.read_text())), f"{path}: reaches past ctx"


def test_the_check_can_fail():
    """The detector itself: each forbidden form is caught."""
    bad = ("import docker\nfrom harness.instance import HAProxyInstance\nctx.haproxy.container.exec_run('x')\n"
           "open('/work/x')\n")
    assert len(reaches(ast.parse(bad))) == 4
