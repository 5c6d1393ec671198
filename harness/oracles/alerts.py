"""Counts the alert/warning lines a case names in HAProxy's own log (e.g. Lua runtime errors)."""
import re

from .base import Finding, Oracle


class AlertLines(Oracle):
    """options: pattern (regex), min_count (fires at or above it; default 1)."""
    name = "alerts"
    OPTIONS = {"pattern": str, "min_count": int}
    REQUIRED = ("pattern",)

    def judge(self, run) -> Finding:
        pattern = re.compile(self.options["pattern"])
        hits = [line for line in run.haproxy_log.splitlines() if pattern.search(line)]
        need = int(self.options.get("min_count", 1))
        return Finding(self.name, len(hits) >= need, f"{len(hits)} line(s) match /{pattern.pattern}/",
                       details={"count": len(hits), "first": hits[:5]})
