"""`hrt report RESULTS_DIR` (and the page `hrt test` writes): one self-contained HTML page.

It leads with the answer (knownbugs.py: per known bug and HAProxy, affected or not and what to upgrade
to; the harness's self-check apart), then the case × version verdicts and the evidence. Plots are
embedded as data URIs and text evidence inline, so the page still reads when it is downloaded alone
from a CI run's artifacts; cores and logs stay links beside it.
"""
import base64
import json
import os
import re
import time
from pathlib import Path

import jinja2

from .knownbugs import known_bugs
from .paths import slug
from .result import CheckResult
from .series import side_by_side
from .verdict import Verdict

TEMPLATES = Path(__file__).resolve().parent / "report_templates"
VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _rebase(path: str, result_dir: Path) -> str:
    """An evidence path recorded on another machine (a CI runner), found again under this result's folder."""
    if os.path.exists(path):
        return path
    parts = Path(path).parts
    if result_dir.name in parts:
        local = result_dir.joinpath(*parts[len(parts) - parts[::-1].index(result_dir.name):])
        if local.exists():
            return str(local)
    return path


def load_results(root: Path) -> list[CheckResult]:
    """Every result.json under root, its evidence paths made local to root."""
    results = []
    for path in sorted(root.rglob("result.json")):
        r = CheckResult.load(path)
        for run in r.runs:
            run.artifacts = _rebase(run.artifacts, path.parent)
            for f in run.findings:
                f["evidence"] = [_rebase(e, path.parent) for e in f["evidence"]]
        results.append(r)
    return results


def _vkey(r: CheckResult) -> tuple:
    m = VERSION_RE.search(r.version or "") or VERSION_RE.search(r.haproxy)
    return tuple(int(g or 0) for g in m.groups()) if m else (0, 0, 0)


def grid(results: list[CheckResult]) -> tuple[list[str], list[str], dict]:
    """The case × version table: rows are case variants, columns the HAProxy they ran on, oldest first."""
    columns = sorted({r.column for r in results},
                     key=lambda c: (min(_vkey(r) for r in results if r.column == c), c))
    return sorted({r.case for r in results}), columns, {(r.case, r.column): r for r in results}


def _series_run(r: CheckResult) -> Path | None:
    """The first run of this check whose verdict is the check's, with saved time series."""
    for run in r.runs:
        d = Path(run.artifacts)
        if run.verdict == r.verdict and any((d / f"{s}.csv").is_file() for s in ("streams", "resources")):
            return d
    return None


def comparisons(results: list[CheckResult]) -> list[dict]:
    """Per case, one bad (reproduced) and one good (held) check side by side: the same variant on the
    nearest versions when there is one (last affected vs first fixed), else a control variant beside
    the recipe on one version."""
    out = []
    for case in sorted({r.case.split("/")[0] for r in results}):
        mine = [r for r in results if r.case.split("/")[0] == case and _series_run(r)]
        pairs = [(b, g) for b in mine if b.verdict == Verdict.REPRODUCED for g in mine if g.verdict == Verdict.HELD]
        if not pairs:
            continue
        bad, good = min(pairs, key=lambda p: (p[0].case != p[1].case, _vkey(p[0])[:2] != _vkey(p[1])[:2],
                                              abs(_vkey(p[0])[2] - _vkey(p[1])[2])))
        sides = [(f"{r.case.partition('/')[2] or case} on {r.version or r.haproxy}: {r.verdict}",
                  _series_run(r)) for r in (bad, good)]
        png = side_by_side(sides)
        if png:
            out.append({"case": case, "bad": bad, "good": good,
                        "png": _png_uri(png)})
    return out


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _data_uri(path: str) -> str:
    return _png_uri(Path(path).read_bytes()) if os.path.isfile(path) else ""


def write_report(root: Path, results: list[CheckResult] | None = None, name: str = "") -> Path:
    """Render results (default: every result.json under root) to root/report.html, or to
    root/<name>/report.html for one `hrt test` invocation."""
    root = root.resolve()
    results = load_results(root) if results is None else results
    out = root / slug(name) / "report.html" if name else root / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.globals["Verdict"] = Verdict
    env.filters["relpath"] = lambda p: os.path.relpath(p, out.parent)
    env.filters["datauri"] = _data_uri
    env.filters["readtext"] = lambda p: Path(p).read_text(errors="replace")[:20000] if os.path.isfile(p) else ""
    env.filters["brief"] = lambda v: v if isinstance(v, (int, float, str)) and len(str(v)) < 200 \
        else json.dumps(v, indent=1, default=str)[:3000]
    rows, columns, cells = grid(results)
    kb_columns, bugs, controls = known_bugs(results)
    html = env.get_template("report.html.j2").render(
        results=results, rows=rows, columns=columns, cells=cells, comparisons=comparisons(results),
        kb_columns=kb_columns, bugs=bugs, controls=controls,
        mismatches=sum(bool(r.mismatch) for r in results), generated=time.strftime("%Y-%m-%d %H:%M:%S"))
    out.write_text(html)
    return out
