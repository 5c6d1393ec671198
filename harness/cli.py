"""`hrt` command line (a contract with users' scripts and CI). Exit: 0 all verdicts as expected, 1 a mismatch
(or, with --strict, untestable where a verdict was expected), 2 setup/usage (an unresolvable source too),
3 a check errored (an exception or a blocked scenario in the harness or a case), 130 interrupted."""
import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import progress, shield
from .case import all_cases, find
from .errors import HrtError
from .profiles import PROFILES
from .verdict import Verdict

OUT = Console(highlight=False, width=None if sys.stdout.isatty() else 160)  # tables: stdout
PROFILE_NAMES = list(PROFILES)
EXIT_ERROR = 3   # a check could not be carried out (the harness or a case failed): no verdict
VERDICT_STYLE = {Verdict.REPRODUCED: "red", Verdict.HELD: "green", Verdict.UNTESTABLE: "yellow",
                 Verdict.ERROR: "bold magenta"}


def cmd_setup(args) -> int:
    from . import cores
    from .dockerenv import remove_leftovers
    from .images import ensure_images, prune_stale
    started = time.monotonic()
    core_setup = cores.ensure()
    progress.note(("" if core_setup.ok else "WARNING: crash cases will be untestable: ") + core_setup.message)
    images = ensure_images()
    removed = remove_leftovers() + prune_stale(images)
    progress.note(f"images ready (base {images.base}, runtime {images.runtime[7:19]}, builder "
                  f"{images.builder[7:19]}); {removed} leftover container(s)/network(s)/stale image(s) removed; "
                  f"{time.monotonic() - started:.1f}s")
    return 0


def cmd_versions(args) -> int:
    from .catalog import ReleaseIndex, refresh_shipped
    from .sources import reachable
    if args.refresh_index:
        print(refresh_shipped([args.branch] if args.branch else None))
        return 0
    index = ReleaseIndex.load([args.branch] if args.branch else None)
    rels = index.releases(args.branch)
    if not rels:
        raise HrtError(f"no releases known for {args.branch or 'any branch'} (index: {index.origin})")
    table = Table("version", "date", "sha256", "source here")
    for r in rels[: args.limit]:
        where = reachable(r) if not args.no_probe else "-"
        table.add_row(r.version, r.date, (r.sha256 or "MISSING")[:12], where or "[yellow]none reachable")
    OUT.print(table)
    return 0


def cmd_build(args) -> int:
    from .runner import prepare
    source, b, why = prepare(args.spec, args.profile)
    if b is None:
        print(why, file=sys.stderr)
        return 1
    print(b.binary or f"{b.runtime.exe} in image {b.runtime.image[:19]} {json.dumps(b.runtime.identity)}")
    print(b.features.vv)
    return 0


def _print_table(results, strict: bool = False) -> None:
    table = Table("case", "haproxy", "version", "expected", "verdict", "runs", "seconds", "note", title="hrt verdicts")
    for r in results:
        style = VERDICT_STYLE.get(r.verdict, "")
        failure = r.failure(strict)
        note = f"{failure.upper()}: {r.reason}" if failure == "untested" else failure.upper() if failure \
            else (r.reason if r.verdict == Verdict.UNTESTABLE else r.bound_text())
        if r.reading:   # a packaged HAProxy: the verdict read against its upstream version
            note = f"{r.reading}; {note}"
        expected = f"by version: {r.by_version}" if r.by_version else r.expected
        if r.verdict == Verdict.HELD:   # every held states how likely it was to catch the bug (harness/power.py)
            note = f"{r.power_text()}; {note}" if not failure else note
        table.add_row(*map(escape, (r.case, r.haproxy, r.version, expected)), f"[{style}]{escape(r.verdict_text)}",
                      f"{r.reproduced_runs}/{len(r.runs)}", f"{r.seconds:.1f}", escape(note[:90]))   # HAProxy's
        # own words ([ALERT], [/work/haproxy.cfg:11]) are text, not markup
    OUT.print(table)


def _run_checks(variants, spec, runs, profile, as_json, power=None, results=None) -> list:
    """A source that cannot be resolved (no release, no ref, no file) stops here with exit 2: it is the
    caller's input that is wrong, and a CI cell must not read it as a skipped, green check. Past that,
    a fault in one variant's build or check is that variant's `error` outcome and the others go on
    (like pytest's CallInfo); `results` fills as checks finish, so an interrupted caller still has them."""
    from .images import ensure_images
    from .runner import check, check_failed, prepare
    from .sources import resolve
    from .spec import parse_spec
    images = ensure_images()
    source = resolve(parse_spec(spec))
    prepared = {}
    results = [] if results is None else results
    for v in variants:
        prof = profile or v.profile
        try:
            if prof not in prepared:
                prepared[prof] = prepare(spec, prof, images, source)
            r = check(v, spec, runs=runs, profile=prof, images=images, prepared=prepared[prof], power=power)
        except HrtError:
            raise   # the input or the setup is wrong (a file that is no HAProxy, no such image...): exit 2
        except Exception as exc:   # a fault of the harness or of the case: this variant's error outcome
            r = check_failed(v, spec, prof, exc, traceback.format_exc())
        results.append(r)
        if as_json:
            print(json.dumps(r.to_json()), flush=True)
        # on stderr in both modes: a held verdict of a probabilistic case states its bound here
        progress.note(f"{r.case}: {r.verdict_text} (expected {r.expected}) {r.reason[:300]}")
    return results


def _write_junit(args, results, name: str) -> None:
    if args.junit:
        from .junit import write_junit
        progress.note(f"junit: {write_junit(Path(args.junit), results, name, args.strict)}")


def _status(args, results) -> int:
    """1: a verdict contradicts its expectation (or, --strict, a cell went untested); 3: a check errored."""
    failures = {r.failure(args.strict) for r in results} - {""}
    return 1 if failures - {Verdict.ERROR} else EXIT_ERROR if failures else 0


def cmd_check(args) -> int:
    results = []
    try:
        _run_checks(find(args.case), args.haproxy, args.runs, args.profile, args.json, args.power, results)
    finally:   # also on Ctrl-C: what was measured is shown and kept
        if not args.json:
            _print_table(results, args.strict)
        _write_junit(args, results, f"check-{args.case}-{args.haproxy}")
    return _status(args, results)


def cmd_test(args) -> int:
    if args.case:
        variants = [v for c in args.case for v in find(c)]
    else:
        variants = [v for c in all_cases() for v in c.variants]
    results = []
    try:
        _run_checks(variants, args.spec, args.runs, args.profile, False, args.power, results)
    finally:   # every verdict already measured reaches the table, the report and JUnit, whatever happened
        if results:   # files first: nothing on the terminal can cost CI its JUnit and report
            from .knownbugs import summary_text
            from .paths import results_dir
            from .report import write_report
            _write_junit(args, results, f"test-{args.spec}")
            progress.note(f"report: {write_report(results_dir(), results, f'test-{args.spec}')}")
            OUT.print(summary_text(results, markup=True))   # the answer first, then the table
            _print_table(results, args.strict)
    return _status(args, results)


def cmd_pair(args) -> int:
    from .errors import CaseError
    from .pair import compare, interleave
    variants = find(args.case)
    if len(variants) != 1:
        raise CaseError(f"{args.case} has {len(variants)} variants; name one (CASE/VARIANT)")

    def show(side, r, load):
        if args.json:
            print(json.dumps({**r.to_json(), "load_avg": load, "bound": r.bound_text()}), flush=True)
        progress.note(f"{r.haproxy}: {r.verdict} (expected {r.expected}) {r.reason[:200]}")
    a, b = interleave(variants[0], args.spec_a, args.spec_b, args.rounds, args.runs, show)
    result = compare(a, b)
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        table = Table("haproxy", "reproduced / counted", "untestable", "s of load", "rate /s (95%)", "load avg",
                      title=f"{args.case}: {args.rounds} interleaved round(s)")
        for s in (result["a"], result["b"]):
            rate = f"{s['rate_per_s']:.3g} ({s['rate_95'][0]:.3g}-{s['rate_95'][1]:.3g})" if "rate_95" in s else "-"
            table.add_row(s["spec"], f"{s['reproduced']}/{s['counted']}", str(s["untestable"]),
                          str(s.get("exposure_s", "-")), rate, f"{s['load_avg'][0]}-{s['load_avg'][1]}")
        OUT.print(table)
        OUT.print(f"Fisher exact p = {result['fisher_p']:.3g}" +
                  (f", rate comparison p = {result['rate_p']:.3g}" if "rate_p" in result else "") +
                  (": significant at 5%" if result["significant"] else ": not significant at 5%"))
    return 0 if all(r.matches for r in a.results + b.results) else 1


def cmd_bisect(args) -> int:
    from .bisect import bisect
    result = bisect(args.case, args.repo, args.from_ref, args.to_ref, args.runs, args.profile,
                    args.unreached_is_clean)
    print(result.report())
    return 0 if result.commit else 1


def cmd_range(args) -> int:
    from .range import pick_variant, run_range, write_entry
    from .spec import BRANCH_RE, version_key
    variant = pick_variant(args.case)
    branches = sorted(variant.branches, key=version_key) if args.all_branches else [args.branch]
    if not branches or not all(BRANCH_RE.match(b) for b in branches):
        raise HrtError(f"--branch expects X.Y, got {args.branch!r}" if args.branch
                       else f"{variant.id} names no [branches] to search")
    status = 0
    for branch in branches:
        result = run_range(variant, branch, args.runs, args.profile)
        print(result.report(), flush=True)
        if result.entry() is None:
            status = 1
        elif args.write:
            progress.note(f"branch {branch}'s entry written to {write_entry(variant, branch, result.entry())}")
    return status


def cmd_matrix(args) -> int:
    from .matrix import github, matrix
    entries = matrix()
    if args.format == "github":
        print(github(entries))
    else:
        table = Table("case", "haproxy", "profile", "role")
        for e in entries:
            table.add_row(e["case"], e["haproxy"], e["profile"], e["role"])
        OUT.print(table)
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    from .report import write_report
    root = Path(args.results_dir)
    if not root.is_dir():
        raise HrtError(f"{root} is not a directory of hrt results")
    print(write_report(root))
    return 0


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of runs >= 1, got {text!r}")
    return n


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hrt", description="HAProxy regression harness")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup", help="prepare the images, remove leftovers of interrupted runs")
    s.set_defaults(func=cmd_setup)
    s = sub.add_parser("versions", help="known releases, newest first, with source status")
    s.add_argument("branch", nargs="?")
    s.add_argument("--limit", type=int, default=40)
    s.add_argument("--no-probe", action="store_true", help="do not check where sources are reachable")
    s.add_argument("--refresh-index", action="store_true",
                   help="rewrite hrt's shipped release index from haproxy.org (online; BRANCH adds a branch)")
    s.set_defaults(func=cmd_versions)
    s = sub.add_parser("build", help="build (or reuse) and print the binary's location and -vv")
    s.add_argument("spec")
    s.add_argument("--profile", choices=PROFILE_NAMES, default="default")
    s.set_defaults(func=cmd_build)
    s = sub.add_parser("check", help="run one case against one HAProxy")
    s.add_argument("case", help="CASE or CASE/VARIANT")
    s.add_argument("--haproxy", required=True, metavar="SPEC")
    s.add_argument("--runs", type=_positive,
                   help="exactly N runs (default: what the case's measured rate needs for --power)")
    s.add_argument("--power", type=float, help="target power of a held against the case's measured rate "
                                               "(default 0.999, or the case's own stated target)")
    s.add_argument("--profile", choices=PROFILE_NAMES)
    s.add_argument("--json", action="store_true", help="one JSON object per variant on stdout")
    s.add_argument("--junit", metavar="PATH", help="also write JUnit XML (a failure = a contradicted expectation)")
    s.add_argument("--haproxy-path", metavar="PATH", help="image:REF only: where HAProxy is in the image")
    s.add_argument("--strict", action="store_true",
                   help="exit 1 also when a check with an expectation is untestable (CI: nothing goes green untested)")
    s.set_defaults(func=cmd_check)
    s = sub.add_parser("test", help="every applicable case against one SPEC (what make test-X runs)")
    s.add_argument("spec")
    s.add_argument("--case", action="append")
    s.add_argument("--runs", type=_positive,
                   help="exactly N runs (default: what the case's measured rate needs for --power)")
    s.add_argument("--power", type=float, help="target power of a held against the case's measured rate "
                                               "(default 0.999, or the case's own stated target)")
    s.add_argument("--profile", choices=PROFILE_NAMES)
    s.add_argument("--junit", metavar="PATH", help="also write JUnit XML (a failure = a contradicted expectation)")
    s.add_argument("--haproxy-path", metavar="PATH", help="image:REF only: where HAProxy is in the image")
    s.add_argument("--strict", action="store_true",
                   help="exit 1 also when a check with an expectation is untestable (CI: nothing goes green untested)")
    s.set_defaults(func=cmd_test)
    s = sub.add_parser("pair", help="interleaved checks of one case on two builds (A B A B ...) and their statistics")
    s.add_argument("case", help="CASE or CASE/VARIANT (one variant)")
    s.add_argument("spec_a", metavar="SPEC_A")
    s.add_argument("spec_b", metavar="SPEC_B")
    s.add_argument("--rounds", type=int, default=5, help="invocations per side (default 5)")
    s.add_argument("--runs", type=_positive, help="runs per invocation (default: the case's)")
    s.add_argument("--json", action="store_true", help="one JSON line per invocation, then the comparison")
    s.set_defaults(func=cmd_pair)
    s = sub.add_parser("bisect", help="find the commit that introduced or fixed a case")
    s.add_argument("case", help="CASE/VARIANT (CASE alone when it has one variant that is not a control)")
    s.add_argument("--repo", required=True, help="git repository (path or URL)")
    s.add_argument("--from", dest="from_ref", required=True, metavar="A")
    s.add_argument("--to", dest="to_ref", required=True, metavar="B")
    s.add_argument("--runs", type=_positive,
                   help="runs per commit (default: the case's); one reproduction = reproduced")
    s.add_argument("--profile", choices=PROFILE_NAMES, help="build profile (default: the case's)")
    s.add_argument("--unreached-is-clean", action="store_true",
                   help="cause bisection: a commit whose runs all fail to reach the trigger counts as clean "
                        "(for bugs that arrive with the code path they need); otherwise such commits are skipped")
    s.set_defaults(func=cmd_bisect)
    s = sub.add_parser("range", help="the releases of a branch a case reproduces on: first affected, first fixed")
    s.add_argument("case", help="CASE/VARIANT (CASE alone when it has one variant that is not a control)")
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("--branch", metavar="X.Y")
    which.add_argument("--all-branches", action="store_true", help="every branch the variant's [branches] names")
    s.add_argument("--runs", type=_positive,
                   help="runs per release (default: the case's); one reproduction = reproduced")
    s.add_argument("--profile", choices=PROFILE_NAMES, help="build profile (default: the case's)")
    s.add_argument("--write", action="store_true",
                   help="record the measured interval in the case.toml's [branches.\"X.Y\"] (comments kept)")
    s.set_defaults(func=cmd_range)
    s = sub.add_parser("matrix", help="the CI matrix: cases x (last affected, first fixed) releases")
    s.add_argument("--format", choices=("table", "github"), default="table")
    s.set_defaults(func=cmd_matrix)
    s = sub.add_parser("report", help="HTML report of a results directory")
    s.add_argument("results_dir")
    s.set_defaults(func=cmd_report)
    return p


def main(argv=None) -> int:
    shield.install()
    args = parser().parse_args(argv)
    if getattr(args, "haproxy_path", None):   # image:REF whose HAProxy is not where images keep it
        attr = "haproxy" if args.command == "check" else "spec"
        if not getattr(args, attr).startswith("image:"):
            parser().error("--haproxy-path applies to image:REF only")
        setattr(args, attr, f"{getattr(args, attr)}#{args.haproxy_path}")
    try:
        return args.func(args)
    except HrtError as exc:
        progress.console.print("[bold red]hrt: error:[/bold red] ", end="")
        progress.console.print(str(exc), highlight=False, markup=False)
        return exc.exit_status
    except KeyboardInterrupt:
        progress.note("interrupted: containers of this run were removed")
        return 130


if __name__ == "__main__":
    sys.exit(main())
