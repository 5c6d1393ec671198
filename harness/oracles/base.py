"""The oracle protocol: baseline before traffic, sample while it runs, judge after HAProxy stopped."""
from dataclasses import dataclass, field


@dataclass
class Finding:
    oracle: str
    fired: bool                  # the oracle saw the bug's evidence
    summary: str
    inconclusive: str = ""       # set when the evidence cannot decide (never read as "held")
    details: dict = field(default_factory=dict)
    evidence: list = field(default_factory=list)   # artifact paths


class Oracle:
    name = "oracle"
    OPTIONS: dict = {}          # option name -> accepted type(s), checked when the case loads
    REQUIRED: tuple = ()

    def __init__(self, **options):
        self.options = options

    def baseline(self, run) -> None:
        """Before the scenario's traffic."""

    def sample(self, run, decision: bool = False) -> None:
        """Called by run.watch() at each tick, by run.decide() at the decision instant (decision=True),
        and once after the scenario ends."""

    def judge(self, run) -> Finding:
        raise NotImplementedError
