"""`hrt report RESULTS_DIR`: one HTML page from every result.json under a results directory."""
import json
import os
import time
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "report_templates"


def load_results(root: Path) -> list[dict]:
    results = []
    for path in sorted(root.rglob("result.json")):
        r = json.loads(path.read_text())
        r["mismatch"] = ("regression" if r["verdict"] == "reproduced" else "did not reproduce") \
            if r["expected"] in ("reproduced", "held") and r["verdict"] in ("reproduced", "held") \
            and r["verdict"] != r["expected"] else ""
        results.append(r)
    return results


def write_report(root: Path) -> Path:
    root = root.resolve()
    results = load_results(root)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.filters["relpath"] = lambda p: os.path.relpath(p, root)
    env.filters["readtext"] = lambda p: Path(p).read_text(errors="replace")[:20000] if Path(p).exists() else ""
    html = env.get_template("report.html.j2").render(
        results=results, mismatches=sum(bool(r["mismatch"]) for r in results),
        generated=time.strftime("%Y-%m-%d %H:%M:%S"))
    out = root / "report.html"
    out.write_text(html)
    return out
