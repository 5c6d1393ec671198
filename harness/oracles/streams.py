"""Stuck streams: `show sess` entries of one frontend with no expiry timer, and CurrConns."""
import math

from ..runtime_api import CLIError
from ..series import Series
from .base import Finding, Oracle


class StuckStreams(Oracle):
    """options: frontend (name), expected (N streams the scenario opened), ratio (default 0.9).

    Fires when at least ratio*N streams of the frontend remain with an empty `exp=` at decision time;
    holds when none remain; anything between is inconclusive (the timing rule did not separate them).
    """
    name = "stuck-streams"
    OPTIONS = {"frontend": str, "expected": int, "ratio": (int, float)}
    REQUIRED = ("frontend", "expected")

    def baseline(self, run) -> None:
        self.series = Series("streams", ["streams", "no_expiry", "curr_conns"], t0=run.t0)
        self.max_streams = 0
        self.decision = None

    def _count(self, run):
        fe = self.options["frontend"]
        streams = [s for s in run.haproxy.stats.show_sess() if s.frontend == fe]
        info = run.haproxy.stats.show_info()
        return streams, int(info.get("CurrConns", 0))

    def sample(self, run, decision: bool = False) -> None:
        try:
            streams, conns = self._count(run)
        except CLIError:
            return  # a dead worker answers nothing; the crash oracle judges that
        self.max_streams = max(self.max_streams, len(streams))
        no_exp = sum(s.no_expiry for s in streams)
        self.series.add(streams=len(streams), no_expiry=no_exp, curr_conns=conns)
        if decision or self.decision is None:
            self.last = streams
        if decision:
            self.decision = (len(streams), no_exp, conns)

    def judge(self, run) -> Finding:
        n = int(self.options["expected"])
        need = math.ceil(float(self.options.get("ratio", 0.9)) * n)
        s, e, conns = self.decision or (self.series.last("streams"), self.series.last("no_expiry"),
                                        self.series.last("curr_conns"))
        evidence = self.series.save(run.artifacts, run.marks)
        sample = [x.raw for x in getattr(self, "last", [])[:3]]
        details = {"streams": s, "no_expiry": e, "curr_conns": conns, "expected": n, "max_streams": self.max_streams,
                   "sample": sample}
        if s is None:
            return Finding(self.name, False, "no sample", inconclusive="the stats socket never answered",
                           details=details)
        summary = f"{s} stream(s) on {self.options['frontend']}, {e} with no expiry, CurrConns={conns} (N={n})"
        if s >= need and e >= need:
            return Finding(self.name, True, summary, details=details, evidence=evidence)
        if s == 0:
            return Finding(self.name, False, summary, details=details, evidence=evidence)
        return Finding(self.name, False, summary, details=details, evidence=evidence,
                       inconclusive=f"{s} stream(s) remain but fewer than {need} without expiry")
