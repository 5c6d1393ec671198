"""The scaffold: owns a case run's lifecycle (build, render, start, scenario, oracles, verdict, cleanup)."""
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import replace
from pathlib import Path

from . import progress
from .build import Build, build
from .capture import Capture
from .case import Variant
from .errors import FeatureMissing, HrtError, SourceUnavailable, Untestable
from .expectation import expect
from .images import Images, ensure_images
from .instance import HAProxyInstance, socket_paths
from .network import PrivateNetwork
from .oracles import REGISTRY
from .paths import results_dir, slug
from .power import plan as power_plan
from .result import CheckResult, RunOutcome
from .shield import requested as interrupt_requested
from .shield import shielded
from .sources import Source, resolve
from .spec import parse_spec
from .templates import render
from .verdict import DECIDED, Verdict

SCENARIO_GRACE = 5   # seconds past the case's timeout before a scenario counts as blocked


class RunContext:
    """What a scenario sees: the HAProxy instance, its netns, the params, and ways to record evidence."""

    def __init__(self, variant: Variant, haproxy: HAProxyInstance, build: Build, images: Images,
                 artifacts: Path, oracles: list, deadline: float):
        self.variant = variant
        self.params = variant.params
        self.haproxy = haproxy
        self.ns = haproxy.netns
        self.build = build
        self.images = images
        self.artifacts = artifacts
        self.oracles = oracles
        self.deadline = deadline
        self.t0 = time.monotonic()
        self.marks: dict[str, float] = {}
        self.preconditions: dict[str, str] = {}
        self.failed_preconditions: list[str] = []
        self.notes: dict = {}
        self._owned = contextlib.ExitStack()   # extra instances and networks, closed by the scaffold
        self._owned_lock = threading.Lock()    # the scenario thread adds while the main thread may close
        self._closed = False
        # filled after HAProxy stopped, for the judges
        self.haproxy_log = ""
        self.log_before_stop = ""
        self.exit_code = None
        self.gone_before_stop = False
        self.cores: list[Path] = []

    @property
    def features(self):
        return self.build.features

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def mark(self, label: str) -> None:
        self.marks[label] = time.monotonic()

    def note(self, key: str, value) -> None:
        self.notes[key] = value

    def precondition(self, name: str, ok: bool, detail: str = "") -> bool:
        """Record whether the trigger path was reached; a failed one makes the run untestable, never held."""
        self.preconditions[name] = ("ok" if ok else "FAILED") + (f": {detail}" if detail else "")
        if not ok:
            self.failed_preconditions.append(f"{name}: {detail}")
        return ok

    def exposure(self, seconds: float | None = None, count: int | None = None, unit: str = "") -> None:
        """How much trigger the run really delivered (power and rates read it): seconds of load until the
        end or the death, and/or a count of the trigger path's own work in `unit` (the case's rate `per`)."""
        if seconds is not None:
            self.notes["exposure_s"] = round(float(seconds), 2)
        if count is not None:
            self.notes["exposure_count"], self.notes["exposure_unit"] = int(count), unit

    def network(self, purpose: str) -> PrivateNetwork:
        """A private, internal Docker network for extra instances; removed (with anything on it) after the run."""
        with self._owning():
            return self._owned.enter_context(PrivateNetwork(f"{slug(self.variant.case.id)}-{purpose}"))

    def instance(self, name: str, params: dict | None = None, network: PrivateNetwork | None = None) -> HAProxyInstance:
        """Another HAProxy of the same build running the case's template with `params` over the run's, started
        (on `network`, else in its own namespace); stopped after the run, its evidence in artifacts/NAME."""
        config = render(self.variant.case.template, {**self.params, **(params or {}), **socket_paths()})
        files = {f: (self.variant.case.path / f).read_text() for f in self.variant.case.files}
        with self._owning():   # held by the stack before its container exists, started before a close
            node = HAProxyInstance(self.build, self.images, config, f"{slug(self.variant.case.id)}-{name}",
                                   network=network.name if network else "none", files=files)
            self._owned.callback(node.close, self.artifacts / name)
            return node.start()

    @contextlib.contextmanager
    def _owning(self):
        with self._owned_lock:
            if self._closed:
                raise HrtError("the run is over: no new instance or network")
            yield

    def close_owned(self) -> None:
        """The scaffold's end of the run: every extra instance stopped (evidence kept), every network removed."""
        with self._owned_lock:
            self._closed = True
            self._owned.close()

    def background(self, argv: list[str], timeout: float):
        """A tool of hrt's runtime image (wrk, h2load...) started beside HAProxy, in its network namespace with
        its work dir at /work; bounded by `timeout` and removed with HAProxy. Returns a handle with
        running(), wait(timeout), output() and stop() (harness/sidecar.py)."""
        return self.haproxy.spawn(argv, min(timeout, max(1.0, self.remaining())))

    def capture(self, name: str = "trigger", max_packets: int = 20000) -> Capture:
        """`with ctx.capture("trigger"):` records HAProxy's loopback while the block runs, as NAME.pcap and
        NAME-flows.txt in the run's evidence (harness/capture.py); keep it to the trigger window."""
        return Capture(self.ns, self.artifacts, name, max_packets)

    def sample(self, decision: bool = False) -> None:
        for o in self.oracles:
            o.sample(self, decision)

    def decide(self) -> None:
        """Take the sample the verdict rests on (the scenario's decision instant, before its cleanup)."""
        self.mark("decision")
        self.sample(decision=True)

    def watch(self, seconds: float, interval: float = 0.5, stop_on_exit: bool = True) -> bool:
        """Sample every oracle each interval for `seconds` (bounded by the run's deadline).
        Returns False early if HAProxy exited (a crash), True otherwise."""
        end = min(time.monotonic() + seconds, self.deadline)
        while True:
            if stop_on_exit and not self.haproxy.running():
                return False
            self.sample()
            if time.monotonic() >= end:
                return True
            time.sleep(max(0.0, min(interval, end - time.monotonic())))


def check_dir(variant: Variant, spec_text: str, profile: str) -> Path:
    """Where one check keeps its result.json, beside its runs' artifact directories."""
    return results_dir() / slug(variant.id.replace("/", "__")) / f"{slug(spec_text)}-{profile}"


def artifacts_dir(variant: Variant, spec_text: str, profile: str, index: int) -> Path:
    """A directory no other run uses, even a concurrent check of the same case, SPEC and profile."""
    parent = check_dir(variant, spec_text, profile)
    parent.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%d-%H%M%S')}-run{index}-", dir=parent))
    d.chmod(0o755)   # evidence is for everyone who reads the results, like the rest of results/
    return d


def _kept(variant: Variant, result: CheckResult) -> CheckResult:
    """Every result is written, untestable ones without runs too, so `hrt report DIR` shows each check."""
    d = check_dir(variant, result.haproxy, result.profile)
    d.mkdir(parents=True, exist_ok=True)
    result.dump(d / "result.json")
    return result


class _Scenario(threading.Thread):
    """The scenario on its own thread, so the run's bound holds even when it blocks: past the bound the
    scaffold stops waiting, kills HAProxy's container (which breaks the scenario's sockets) and moves on."""

    def __init__(self, module, ctx: "RunContext"):
        super().__init__(daemon=True, name=f"scenario-{ctx.variant.id}")
        self.module, self.ctx = module, ctx
        self.error: BaseException | None = None
        self.traceback = ""

    def run(self) -> None:
        try:
            self.module.run(self.ctx)
            self.ctx.sample()
        except BaseException as exc:   # reported as the run's error outcome, with its traceback
            self.error, self.traceback = exc, traceback.format_exc()


def _error(index: int, artifacts: Path, seconds: float, reason: str, trace: str) -> RunOutcome:
    """A run the harness or the case broke: its own verdict, the traceback kept beside the evidence."""
    (artifacts / "traceback.txt").write_text(trace)
    progress.note(f"run {index}: error: {reason}")
    return RunOutcome(index, Verdict.ERROR, reason, round(seconds, 2), str(artifacts),
                      notes={"traceback": str(artifacts / "traceback.txt")})


def run_once(variant: Variant, b: Build, images: Images, spec_text: str, index: int,
             params_override: dict | None = None) -> RunOutcome:
    """One run; whatever goes wrong inside it (an exception, a blocked scenario) is its outcome, not the
    end of the check. An interrupt (Ctrl-C, SIGTERM) goes up after the container is removed, and so does
    an Untestable (this HAProxy refuses the case's config: no run can judge it)."""
    artifacts = artifacts_dir(variant, spec_text, b.profile, index)
    started = time.monotonic()
    try:
        return _run(variant, b, images, index, params_override or {}, artifacts, started)
    except Untestable:
        raise
    except Exception as exc:
        if interrupt_requested():   # a library turned our KeyboardInterrupt into its own error
            raise KeyboardInterrupt from exc
        return _error(index, artifacts, time.monotonic() - started, f"{exc.__class__.__name__}: {exc}",
                      traceback.format_exc())


def _run(variant: Variant, b: Build, images: Images, index: int, params_override: dict, artifacts: Path,
         started: float) -> RunOutcome:
    params = {**variant.params, **params_override, **socket_paths(), "version": b.features.branch}
    config = render(variant.case.template, params)
    module = variant.case.scenario()
    files = {name: (variant.case.path / name).read_text() for name in variant.case.files}  # at {{ workdir }}/NAME
    oracles = [REGISTRY[o.name](**o.options) for o in variant.oracles]
    haproxy = ctx = None
    try:
        with shielded():   # its work dir exists only once `haproxy` holds it
            haproxy = HAProxyInstance(b, images, config, slug(variant.id), extra_args=list(variant.haproxy_args),
                                      files=files)
        haproxy.start()
        ctx = RunContext(variant, haproxy, b, images, artifacts, oracles, started + variant.timeout)
        ctx.params = params
        for o in oracles:
            o.baseline(ctx)
        scenario = _Scenario(module, ctx)
        scenario.start()
        scenario.join(max(0.0, ctx.deadline - time.monotonic()) + SCENARIO_GRACE)
        blocked = scenario.is_alive()
        if blocked:   # abandoned: killing HAProxy ends what the scenario waits on; the thread is a daemon
            haproxy.kill()
            scenario.join(5)
    finally:   # an interrupt now waits for the end of the cleanup; a failing stop still keeps the evidence
        with shielded():
            if ctx is not None:
                ctx.close_owned()
            if haproxy is not None:
                haproxy.close(artifacts)
        if ctx is not None:   # every run's own record beside its evidence, whatever ended it
            (artifacts / "notes.json").write_text(json.dumps(
                {"notes": ctx.notes, "preconditions": ctx.preconditions, "marks": ctx.marks,
                 "load_avg_end": os.getloadavg()}, default=str))
    if blocked:
        return _error(index, artifacts, time.monotonic() - started,
                      f"timeout: the scenario was still running {variant.timeout:.0f}s (+{SCENARIO_GRACE}s) into the "
                      "run; abandoned, its container removed", "".join(traceback.format_stack(
                          sys._current_frames().get(scenario.ident)) if scenario.ident else []))
    if scenario.error is not None:
        if isinstance(scenario.error, (KeyboardInterrupt, Untestable)):   # e.g. ctx.instance()'s config refused
            raise scenario.error
        return _error(index, artifacts, time.monotonic() - started,
                      f"the scenario raised {scenario.error.__class__.__name__}: {scenario.error}", scenario.traceback)
    ctx.haproxy_log, ctx.log_before_stop, ctx.exit_code = haproxy.log_text, haproxy.log_before_stop, haproxy.exit_code
    ctx.gone_before_stop = haproxy.gone_before_stop
    ctx.cores = sorted(p for p in artifacts.glob("core*") if p.is_file())
    findings = [(spec, o.judge(ctx)) for spec, o in zip(variant.oracles, oracles)]
    seconds = time.monotonic() - started
    fired = [f for s, f in findings if s.gate and f.fired]
    unsure = [f for s, f in findings if s.gate and f.inconclusive]
    if fired:
        verdict, reason = Verdict.REPRODUCED, "; ".join(f"{f.oracle}: {f.summary}" for f in fired)
    elif ctx.failed_preconditions:
        verdict, reason = Verdict.UNTESTABLE, "trigger not reached: " + "; ".join(ctx.failed_preconditions)
    elif unsure:
        verdict, reason = Verdict.UNTESTABLE, "; ".join(f"{f.oracle}: {f.inconclusive}" for f in unsure)
    else:
        verdict, reason = Verdict.HELD, "; ".join(f"{f.oracle}: {f.summary}" for s, f in findings if s.gate)
    return RunOutcome(index, verdict, reason, round(seconds, 2), str(artifacts),
                      findings=[{"oracle": f.oracle, "fired": f.fired, "summary": f.summary,
                                 "inconclusive": f.inconclusive, "details": f.details, "evidence": f.evidence}
                                for _, f in findings],
                      preconditions=ctx.preconditions, notes=ctx.notes)


def prepare(spec_text: str, profile: str, images: Images | None = None,
            source: Source | None = None) -> tuple[Source, Build | None, str]:
    """Source and build for a SPEC; (source, None, reason) when it cannot be built (untestable)."""
    images = images or ensure_images()
    source = source or resolve(parse_spec(spec_text))
    return (source, *_judgeable(build, source, profile, images))


def _judgeable(fn, *args) -> tuple[object, str]:
    """(fn(*args), "") or (None, why) when this HAProxy cannot be judged here: the one place an Untestable
    (no build, a missing feature, a refused config) becomes a reason instead of an error."""
    try:
        return fn(*args), ""
    except Untestable as exc:
        return None, exc.reason


def check(variant: Variant, spec_text: str, runs: int | None = None, profile: str | None = None,
          images: Images | None = None, prepared=None, power: float | None = None) -> CheckResult:
    """Run one variant against one HAProxy; one reproduction makes it reproduced. Without `runs`, the exposure
    is what the variant's measured rate needs for `power` (harness/power.py) and the check stops at the first
    reproduction; `runs` fixes the count (every run is made, e.g. to measure a rate)."""
    profile = profile or variant.profile
    images = images or ensure_images()
    started = time.monotonic()
    try:
        source, b, why_not = prepared or prepare(spec_text, profile, images)
    except SourceUnavailable as exc:
        return check_error(variant, spec_text, profile, exc, time.monotonic() - started)
    version = b.features.version if b else source.version
    exp = expect(variant, source, version)
    result = CheckResult(variant.id, spec_text, version, source.commit, profile, exp.verdict, exp.why,
                         Verdict.UNTESTABLE, by_version=exp.by_version,
                         identity={**source.provenance, **(b.runtime.identity if b else {})})
    plan = power_plan(variant, runs, power)
    result.power_rate, result.power_target = variant.rate, plan.target
    if b is None:
        result.reason = why_not
    else:
        _, why = _judgeable(_runs, result, variant, b, images, spec_text, plan, started)
        result.reason = why or result.reason
    result.seconds = time.monotonic() - started
    return _kept(variant, result)


def _summarise(result: CheckResult) -> None:
    """The check's verdict from its runs so far: one reproduction decides; a run the harness or the case
    broke (error) is never read as held; held needs a run that reached its trigger."""
    counted = [r for r in result.runs if r.verdict in DECIDED]
    errors = [r for r in result.runs if r.verdict == Verdict.ERROR]
    result.evidence = []
    for r in result.runs:
        for f in r.findings:
            result.evidence += f["evidence"]
        result.evidence.append(r.artifacts)
    if result.reproduced_runs:
        result.verdict = Verdict.REPRODUCED
        result.reason = next(r.reason for r in result.runs if r.verdict == Verdict.REPRODUCED)
    elif errors:
        result.verdict = Verdict.ERROR
        result.reason = f"{len(errors)} of {len(result.runs)} run(s) failed: {errors[0].reason}"
    elif counted:
        result.verdict = Verdict.HELD
        result.reason = f"{result.bound_text()}; {result.power_text()}; " + counted[-1].reason
    else:
        result.verdict = Verdict.UNTESTABLE
        result.reason = result.runs[-1].reason


def _runs(result: CheckResult, variant: Variant, b: Build, images: Images, spec_text: str, plan,
          started: float) -> None:
    """The planned runs into `result`, kept after each; stops at the first reproduction unless the count is
    fixed. Untestable (a feature the case requires, a refused config) ends them."""
    missing = [f for f in variant.case.requires if not b.features.has(f)]
    if missing:
        raise FeatureMissing(f"{result.version} ({b.profile}) lacks {', '.join(missing)} (from haproxy -vv)")
    planned = replace(variant, timeout=plan.timeout)
    try:
        for i in range(1, plan.runs + 1):
            progress.note(f"{variant.id} on {result.version} [{b.profile}]: run {i}/{plan.runs}"
                          + "".join(f", {k} = {v}" for k, v in plan.params.items()))
            result.runs.append(run_once(planned, b, images, spec_text, i, plan.params))
            _summarise(result)
            _kept(variant, result)   # after every run: an interrupted check keeps what it measured
            if result.runs[-1].verdict == Verdict.REPRODUCED and not plan.fixed:
                return   # syzbot's rule: one reproduction is the verdict
    except KeyboardInterrupt:
        result.interrupted = True
        if result.runs:
            _summarise(result)
        result.reason = f"interrupted after {len(result.runs)} run(s); {result.reason}"
        result.seconds = time.monotonic() - started
        _kept(variant, result)
        raise


def check_failed(variant: Variant, spec_text: str, profile: str, exc: BaseException, trace: str) -> CheckResult:
    """A check the harness could not carry out (a build or image step raised): an error outcome for this
    variant, its traceback kept beside result.json, and the run of the others goes on."""
    d = check_dir(variant, spec_text, profile)
    d.mkdir(parents=True, exist_ok=True)
    (d / "traceback.txt").write_text(trace)
    return _kept(variant, CheckResult(variant.id, spec_text, "", None, profile, "unknown", "", Verdict.ERROR,
                                      f"{exc.__class__.__name__}: {exc} (traceback: {d / 'traceback.txt'})"))


def check_error(variant: Variant, spec_text: str, profile: str, exc: HrtError, seconds: float = 0.0) -> CheckResult:
    return _kept(variant, CheckResult(variant.id, spec_text, "", None, profile, "unknown", "", Verdict.UNTESTABLE,
                                      str(exc), seconds=seconds))
