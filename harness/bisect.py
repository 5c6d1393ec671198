"""`hrt bisect`: find the commit that introduced or fixed a case, driving `git bisect run`.

Both ends are checked first; the direction follows from them. The bisection runs in a private
`git clone --shared` (never the user's checkout); each step builds the commit through the normal build
cache and runs the case N times (one reproduction = reproduced); a build failure or an untestable run
answers 125 (skip).
"""
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import progress
from .case import find
from .errors import HrtError
from .gitrepo import GitRepo
from .runner import check

STEP_TIMEOUT = 3600


@dataclass
class BisectResult:
    direction: str            # "fix" or "introduction"
    commit: str
    subject: str
    steps: list = field(default_factory=list)   # {"commit","verdict","runs","reproduced_runs","term"}

    def report(self) -> str:
        lines = [f"{'fixed' if self.direction == 'fix' else 'introduced'} by {self.commit[:12]} {self.subject}",
                 f"{len(self.steps)} checks:"]
        for s in self.steps:
            lines.append(f"  {s['commit'][:12]} {s['verdict']:<10} {s['reproduced_runs']}/{s['runs']} runs -> {s['term']}")
        return "\n".join(lines)


def _verdict(case_sel: str, spec: str, runs: int | None):
    variants = find(case_sel)
    if len(variants) != 1:
        raise HrtError(f"bisect needs one variant: use {case_sel}/<variant> "
                       f"({', '.join(v.name for v in variants)})")
    return check(variants[0], spec, runs=runs)


def step(case_sel: str, repo: str, runs: int | None, terms: dict, log: str) -> int:
    """One `git bisect run` step on the clone's HEAD: exit 0 = old term, 1 = new term, 125 = skip."""
    commit = GitRepo(repo).resolve("HEAD")
    r = _verdict(case_sel, f"git:{repo}@{commit}", runs)
    term = terms.get(r.verdict, "skip")
    with open(log, "a") as f:
        f.write(json.dumps({"commit": commit, "verdict": r.verdict, "runs": len(r.runs),
                            "reproduced_runs": r.reproduced_runs, "term": term, "reason": r.reason[:300]}) + "\n")
    return {"skip": 125}.get(term, 0 if term == terms["_old"] else 1)


def bisect(case_sel: str, repo: str, good_from: str, to: str, runs: int | None = None) -> BisectResult:
    src = GitRepo(os.path.abspath(os.path.expanduser(repo)) if "://" not in repo else repo)
    a, b = src.resolve(good_from), src.resolve(to)
    if not a or not b:
        raise HrtError(f"{repo} does not know {good_from if not a else to}")
    if not src.is_ancestor(a, b):
        raise HrtError(f"--from {good_from} is not an ancestor of --to {to}")
    ends = {}
    for name, commit in (("from", a), ("to", b)):
        progress.note(f"bisect: checking the {name} end {commit[:12]}")
        ends[name] = _verdict(case_sel, f"git:{src.git_dir}@{commit}", runs)
    va, vb = ends["from"].verdict, ends["to"].verdict
    if va == "reproduced" and vb == "held":
        direction, terms = "fix", {"reproduced": "broken", "held": "fixed", "_old": "broken"}
    elif va == "held" and vb == "reproduced":
        direction, terms = "introduction", {"held": "clean", "reproduced": "broken", "_old": "clean"}
    else:
        raise HrtError(f"nothing to bisect: {good_from} is {va} and {to} is {vb} "
                       f"({ends['from'].reason[:200]} / {ends['to'].reason[:200]})")
    old, new = terms["_old"], next(t for k, t in terms.items() if k != "_old" and t != terms["_old"])
    steps = [{"commit": c, "verdict": r.verdict, "runs": len(r.runs), "reproduced_runs": r.reproduced_runs,
              "term": terms[r.verdict]} for c, r in ((a, ends["from"]), (b, ends["to"]))]
    with tempfile.TemporaryDirectory(prefix="hrt-bisect-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(src.git_dir), str(clone)],
                       check=True, timeout=600)
        log = Path(tmp) / "steps.jsonl"
        git = ["git", "-C", str(clone)]
        subprocess.run([*git, "bisect", "start", f"--term-old={old}", f"--term-new={new}", b, a],
                       check=True, capture_output=True, timeout=600)
        cmd = [sys.executable, "-m", "harness.bisect", "step", case_sel, str(clone), str(runs or 0),
               json.dumps(terms), str(log)]
        run = subprocess.run([*git, "bisect", "run", *cmd], capture_output=True, text=True, timeout=STEP_TIMEOUT * 20)
        out = run.stdout + run.stderr
        found = next((line.split()[0] for line in out.splitlines() if f"is the first {new} commit" in line), None)
        if log.exists():
            steps += [json.loads(line) for line in log.read_text().splitlines()]
        if not found:
            raise HrtError(f"git bisect did not conclude:\n{out[-3000:]}")
        subject = subprocess.run([*git, "log", "-1", "--format=%s", found], capture_output=True,
                                 text=True).stdout.strip()
    return BisectResult(direction, found, subject, steps)


if __name__ == "__main__":  # the `git bisect run` step
    _, verb, case_sel, clone, runs, terms, log = sys.argv
    sys.exit(step(case_sel, clone, int(runs) or None, json.loads(terms), log))
