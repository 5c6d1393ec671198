"""Expected vs actual answers of a conversation the scenario held (a CLI session, a protocol exchange).

The scenario records each exchange with `record(ctx, exchange, text, expect)`: the raw text that came
back and the answers it must contain, as {regex: minimum count} (multiline regexes, counted with
re.findall). The oracle fires when any expected answer is missing (found fewer times than required);
it is inconclusive when the scenario recorded nothing (the conversation was never held).
"""
import re

from .base import Finding, Oracle

NOTE = "answers"
TEXT_LIMIT = 20000


def record(run, exchange: str, text: str, expect: dict, error: str = "") -> dict:
    """Keep one exchange in the run's notes (kept in result.json) for the oracle to judge."""
    entry = {"exchange": exchange, "expect": {str(k): int(v) for k, v in expect.items()},
             "text": text[-TEXT_LIMIT:], "error": error}
    run.notes.setdefault(NOTE, []).append(entry)
    return entry


def count(entry: dict) -> dict:
    """{pattern: times found} for one recorded exchange."""
    return {p: len(re.findall(p, entry["text"], re.M)) for p in entry["expect"]}


def missing(entry: dict) -> dict:
    """{pattern: (found, expected)} for the answers an exchange lacks."""
    found = count(entry)
    return {p: (found[p], n) for p, n in entry["expect"].items() if found[p] < n}


class Answers(Oracle):
    """options: none. Fires when a recorded exchange lacks an expected answer."""
    name = "answers"

    def judge(self, run) -> Finding:
        entries = run.notes.get(NOTE) or []
        if not entries:
            return Finding(self.name, False, "no exchange recorded",
                           inconclusive="the scenario recorded no expected answers")
        lacking = {e["exchange"]: missing(e) for e in entries}
        lacking = {k: v for k, v in lacking.items() if v}
        evidence = []
        if getattr(run, "artifacts", None) is not None:
            path = run.artifacts / "answers.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(
                f"=== {e['exchange']}" + (f" (error: {e['error']})" if e["error"] else "") + "\n"
                f"expected: {e['expect']}\nfound:    {count(e)}\n--- text ---\n{e['text']}\n\n" for e in entries))
            evidence.append(str(path))
        details = {"exchanges": len(entries), "missing": {k: {p: f"{f}/{n}" for p, (f, n) in v.items()}
                                                          for k, v in lacking.items()},
                   "errors": {e["exchange"]: e["error"] for e in entries if e["error"]}}
        if lacking:
            parts = [f"{k}: " + ", ".join(f"/{p}/ {f}/{n}" for p, (f, n) in v.items()) for k, v in lacking.items()]
            return Finding(self.name, True, f"{len(lacking)}/{len(entries)} exchange(s) lack answers: "
                           + "; ".join(parts), details=details, evidence=evidence)
        return Finding(self.name, False, f"all expected answers in {len(entries)} exchange(s)",
                       details=details, evidence=evidence)
