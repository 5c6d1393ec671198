"""The reported form: one master-CLI line that enters the worker (`@1`), sets a mode (`expert-mode on`)
and pipelines commands after it. Without the fix the master re-inserts the mode before each command as a
new line, so the pipelined commands answer nothing (3.0) or with a warning (older branches)."""
import re

from harness.oracles.answers import record
from harness.runtime_api import CLIError

ANSWERS = {"show info": r"^Name: HAProxy\s*$", "show version": r"^\d+\.\d+[\w.+-]*\s*$"}


def ask(master, line: list[str]) -> tuple[str, str]:
    try:
        return master.cmd(*line), ""
    except CLIError as exc:
        return "", str(exc)


def run(ctx):
    master = ctx.haproxy.master
    single, err = ask(master, ["@1 show info"])
    if not ctx.precondition("the master CLI reaches the worker", bool(re.search(ANSWERS["show info"], single, re.M)),
                            err or single[:200]):
        return
    commands = ctx.params["commands"]
    line = ["@1", *ctx.params["modes"], *commands]
    text, err = ask(master, line)
    record(ctx, "; ".join(line), text, {ANSWERS[c]: 1 for c in commands}, err)
    ctx.note("answer", text[:2000])
    ctx.decide()
