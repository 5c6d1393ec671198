"""`hrt bisect`: find the commit that introduced or fixed a case, driving `git bisect run`.

Both ends are checked first; the direction follows from them (syzbot's cause/fix bisection). The
bisection runs in a private bare `git clone --shared` with `--no-checkout` (the step reads BISECT_HEAD),
so the user's repository never changes and deleting the clone deletes every bit of bisect state. Each
step builds the commit through the normal build cache (ccache makes neighbouring commits cheap) and
runs the case N times: one reproduction = reproduced; a failed build or an untestable run answers 125
(skip). A cause bisection may opt in to syzbot's reading of a reproducer that runs but cannot reach its
trigger (every run untestable with "trigger not reached"): clean, for bugs that arrive together with
the code path they need (lua-filter-2.9/mixed-load before 09133860b never attaches its second filter).
The step runs in its own process group: an interruption stops the group, whose SIGTERM handler removes
the step's containers, before the clone goes away.
"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from . import progress
from .case import Variant, find
from .dockerenv import remove_leftovers
from .errors import CaseError, HrtError, SourceUnavailable
from .gitrepo import GitRepo
from .images import ensure_images
from .stats import zero_hit_bound
from .runner import check, prepare
from .verdict import Verdict

STEP_TIMEOUT = 3600       # one step: a cold build plus the case's runs, generously
STOP_GRACE = 90           # an interrupted step's time to remove its containers
STEP_ERROR = 200          # git bisect run aborts on exit codes >= 128: an error is not an answer
TERMS = {"fix": ("broken", "fixed"), "introduction": ("clean", "broken")}   # (old, new)
ROW = ("  {commit:<12} {role:<5} {build:<7} {build_s:>7} {make_s:>6} {ccache:>9} {runs:>5} {run_s:>6} "
       "{verdict:<10} {term:<7} {load}")
LOG_RE = re.compile(r"^# (first|possible first) \S+ commit: \[([0-9a-f]{40})\] (.*)$", re.M)


def pick_variant(case_sel: str) -> Variant:
    """CASE/VARIANT, or CASE when it has one variant to bisect (controls, with a fixed `expect`, are not)."""
    variants = find(case_sel)
    if "/" not in case_sel:
        variants = [v for v in variants if not v.expect] or variants
    if len(variants) != 1:
        raise CaseError(f"bisect needs one variant: {' or '.join(v.id for v in variants)}")
    return variants[0]


def term_of(rec: dict, direction: str, unreached_clean: bool) -> str:
    """The git bisect term for a check's record; "skip" when it answers nothing."""
    old, new = TERMS[direction]
    if rec["verdict"] == Verdict.REPRODUCED:
        return old if direction == "fix" else new
    if rec["verdict"] == Verdict.HELD:
        return new if direction == "fix" else old
    return old if unreached_clean and direction == "introduction" and rec["unreached"] else "skip"


def check_commit(variant: Variant, repo: str, commit: str, runs: int | None, profile: str | None) -> dict:
    """Build (or reuse) and run one commit: the record of a step, with its build and run times."""
    prof = profile or variant.profile
    spec = f"git:{repo}@{commit}"
    load = os.getloadavg()[0]
    started = time.monotonic()
    images = ensure_images()
    try:
        prepared = prepare(spec, prof, images)
    except SourceUnavailable as exc:
        prepared = (None, None, str(exc))
    build_s = time.monotonic() - started
    b = prepared[1]
    r = check(variant, spec, runs=runs, profile=prof, images=images, prepared=prepared) if prepared[0] else None
    unreached = bool(r and r.runs) and all(x.verdict == Verdict.UNTESTABLE and
                                           x.reason.startswith("trigger not reached") for x in r.runs)
    return {"commit": commit, "verdict": r.verdict if r else Verdict.UNTESTABLE,
            "runs": len(r.runs) if r else 0, "reproduced_runs": r.reproduced_runs if r else 0,
            "build": "failed" if b is None else ("fresh" if b.seconds else "cached"),
            "build_s": round(build_s, 1), "make_s": round(b.seconds, 1) if b else 0.0,
            "ccache": b.ccache if b else "",
            "run_s": round(sum(x.seconds for x in r.runs), 1) if r else 0.0,
            "load": round(load, 1), "unreached": unreached, "reason": (r.reason if r else prepared[2])[:300]}


def step(case_sel: str, repo: str, clone: str, runs: int | None, profile: str | None, direction: str,
         unreached_clean: bool, log: str) -> int:
    """One `git bisect run` step on the clone's BISECT_HEAD: 0 = old term, 1 = new term, 125 = skip."""
    commit = GitRepo(clone).resolve("BISECT_HEAD")
    rec = check_commit(pick_variant(case_sel), repo, commit, runs, profile)
    rec["term"] = term_of(rec, direction, unreached_clean)
    with open(log, "a") as f:
        f.write(json.dumps(rec) + "\n")
    progress.note(f"bisect step {commit[:12]}: {rec['verdict']} -> {rec['term']}")
    return 125 if rec["term"] == "skip" else int(rec["term"] != TERMS[direction][0])


@dataclass
class BisectResult:
    variant: Variant
    direction: str                  # "fix" or "introduction"
    window: int                     # commits in from..to
    commit: str | None              # None when only skipped commits were left
    subject: str
    candidates: list = field(default_factory=list)   # (commit, subject) git could not tell apart
    steps: list = field(default_factory=list)        # check_commit records, ends first

    def report(self) -> str:
        verb = "fixed" if self.direction == "fix" else "introduced"
        if self.commit:
            lines = [f"{verb} by {self.commit[:12]} {self.subject}"]
        else:
            lines = [f"undecided: {verb} by one of {len(self.candidates)} commits (the others were skipped):"]
            lines += [f"  {c[:12]} {s}" for c, s in self.candidates]
        lines += self.table()
        warning = self.uncertainty()
        if warning:
            lines.append(warning)
        return "\n".join(lines)

    def table(self) -> list:
        """The checked commits (ends first), those counted clean with the trigger unreached, the skipped."""
        bound = math.ceil(math.log2(max(self.window, 2))) + 2
        built = sum(s["build"] == "fresh" for s in self.steps)
        lines = [f"{self.variant.id}: {len(self.steps)} commits checked over a window of {self.window} "
                 f"(bound ceil(log2 {self.window})+2 = {bound}); {built} built, the rest from the cache"]
        lines.append(ROW.format(commit="commit", role="role", build="build", build_s="build s", make_s="make s",
                                ccache="ccache", runs="runs", run_s="run s", verdict="verdict", term="term",
                                load="load"))
        for i, s in enumerate(self.steps):
            lines.append(ROW.format(**{**s, "commit": s["commit"][:12], "role": ("from", "to", "step")[min(i, 2)],
                                       "ccache": s["ccache"] or "-", "runs": f"{s['reproduced_runs']}/{s['runs']}",
                                       "term": s.get("term", "")}))
        unreached = [s for s in self.steps if s["verdict"] == Verdict.UNTESTABLE and s.get("term") != "skip"]
        if unreached:
            lines.append(f"counted as clean, trigger not reached (--unreached-is-clean): "
                         f"{', '.join(s['commit'][:12] for s in unreached)}")
        skipped = [s for s in self.steps if s.get("term") == "skip"]
        if skipped:
            lines.append(f"skipped {len(skipped)}: " + "; ".join(
                f"{s['commit'][:12]} ({' '.join(s['reason'].split())[:120]})" for s in skipped))
        return lines

    def uncertainty(self) -> str:
        """A probabilistic case's 'held' is an absence of evidence: say how much the answer rests on it."""
        held = [s for s in self.steps if s["verdict"] == Verdict.HELD]
        if not (self.variant.case.probabilistic and held):
            return ""
        n = min(s["runs"] for s in held)
        shift = "later" if self.direction == "introduction" else "earlier"
        return (f"WARNING: {self.variant.case.id} is probabilistic: {len(held)} commit(s) counted as held on as "
                f"few as {n} run(s) without a reproduction (per-run rate < {zero_hit_bound(n):.2f} at 95%); one "
                f"missed reproduction would put the answer {shift} than the truth. Confirm the commit and its "
                f"parent with more --runs.")


def _run_group(cmd: list, cwd: str, timeout: float) -> int:
    """Run cmd in its own process group (its output on our stderr); stop the whole group when we are
    interrupted or it overruns, so no step is left building or running a case on its own."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=sys.stderr, start_new_session=True)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(p)
        raise HrtError(f"bisect exceeded {timeout:.0f}s and was stopped") from None
    except BaseException:
        _stop_group(p)
        raise


def _stop_group(p: subprocess.Popen) -> None:
    """SIGTERM the group (the step turns it into KeyboardInterrupt: its containers go), wait, then SIGKILL."""
    def members():
        out = []
        for proc in psutil.process_iter(["pid", "status"]):
            try:
                if os.getpgid(proc.pid) == p.pid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    out.append(proc)
            except (ProcessLookupError, psutil.Error):
                pass
        return out
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_GRACE
    while members() and time.monotonic() < deadline:
        time.sleep(0.5)
        p.poll()
    for proc in members():
        proc.kill()
    p.wait()
    remove_leftovers()   # containers of a step that had to be killed: their owner pid is gone


def bisect(case_sel: str, repo: str, from_ref: str, to_ref: str, runs: int | None = None,
           profile: str | None = None, unreached_clean: bool = False) -> BisectResult:
    variant = pick_variant(case_sel)
    src = GitRepo(os.path.abspath(os.path.expanduser(repo)) if "://" not in repo else repo)
    a, b = src.resolve(from_ref), src.resolve(to_ref)
    if not a or not b:
        raise HrtError(f"{repo} does not know {from_ref if not a else to_ref}")
    if not src.is_ancestor(a, b) or a == b:
        raise HrtError(f"--from {from_ref} is not an ancestor of --to {to_ref}")
    window = int(src.git("rev-list", "--count", f"{a}..{b}").stdout)
    steps = []
    for name, commit in (("from", a), ("to", b)):
        progress.note(f"bisect: checking the {name} end {commit[:12]}")
        steps.append(check_commit(variant, str(src.git_dir), commit, runs, profile))
    va, vb = steps[0]["verdict"], steps[1]["verdict"]
    if (va, vb) == (Verdict.REPRODUCED, Verdict.HELD):
        direction = "fix"
    elif vb == Verdict.REPRODUCED and term_of(steps[0], "introduction", unreached_clean) == "clean":
        direction = "introduction"
    else:
        hint = ("; if the trigger only becomes reachable with the bug, --unreached-is-clean counts such commits "
                "as clean" if steps[0]["unreached"] and vb == Verdict.REPRODUCED else "")
        raise HrtError(f"nothing to bisect: {from_ref} is {va} and {to_ref} is {vb} (a fix needs reproduced "
                       f"then held, an introduction held then reproduced{hint})\n  {from_ref}: "
                       f"{steps[0]['reason']}\n  {to_ref}: {steps[1]['reason']}")
    for s in steps:
        s["term"] = term_of(s, direction, unreached_clean)
    old, new = TERMS[direction]
    progress.note(f"bisect: looking for the {'fixing' if direction == 'fix' else 'introducing'} commit among "
                  f"{window} (git bisect --term-old={old} --term-new={new})")
    with tempfile.TemporaryDirectory(prefix="hrt-bisect-") as tmp:
        clone, log = Path(tmp) / "repo.git", Path(tmp) / "steps.jsonl"
        subprocess.run(["git", "clone", "-q", "--bare", "--shared", "--", str(src.git_dir), str(clone)],
                       check=True, timeout=600)
        git = ["git", "-C", str(clone)]
        subprocess.run([*git, "bisect", "start", "--no-checkout", f"--term-old={old}", f"--term-new={new}", b, a],
                       check=True, stdout=sys.stderr, timeout=600)
        if not LOG_RE.search(_bisect_log(git)):   # adjacent ends: git already knows
            cmd = [sys.executable, "-m", "harness.bisect", case_sel, str(src.git_dir), str(clone), str(runs or 0),
                   profile or "", direction, str(int(unreached_clean)), str(log)]
            _run_group([*git, "bisect", "run", *cmd], tmp,
                       STEP_TIMEOUT * (math.ceil(math.log2(max(window, 2))) + 4))
        if log.exists():
            steps += [json.loads(line) for line in log.read_text().splitlines()]
        found = LOG_RE.findall(_bisect_log(git))
    result = BisectResult(variant, direction, window, None, "", steps=steps)
    if not found:
        raise HrtError("git bisect stopped without an answer (a step failed: see the messages above)\n" +
                       "\n".join(result.table()))
    if found[0][0] == "first":
        result.commit, result.subject = found[0][1], found[0][2]
    else:
        result.candidates = [(c, s) for _, c, s in found]
    return result


def _bisect_log(git: list) -> str:
    return subprocess.run([*git, "bisect", "log"], capture_output=True, text=True, timeout=60).stdout


def _interrupt(signum, frame):
    raise KeyboardInterrupt   # unwinds the step's `with`/`finally`: its containers are removed


def _main(argv: list) -> int:
    """The `git bisect run` step: any error aborts the bisection rather than answering for the commit."""
    signal.signal(signal.SIGTERM, _interrupt)
    # git bisect run exports GIT_DIR (relative) and friends: they would redirect every git call on the
    # user's repository to the clone's directory
    for name in subprocess.run(["git", "rev-parse", "--local-env-vars"], capture_output=True, text=True,
                               check=True).stdout.split():
        os.environ.pop(name, None)
    case_sel, repo, clone, runs, profile, direction, unreached_clean, log = argv
    try:
        return step(case_sel, repo, clone, int(runs) or None, profile or None, direction, unreached_clean == "1",
                    log)
    except KeyboardInterrupt:
        return STEP_ERROR
    except Exception as exc:  # noqa: BLE001 — reported, then git bisect run stops
        progress.console.print(f"bisect step failed: {exc.__class__.__name__}: {exc}", markup=False)
        return STEP_ERROR


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
