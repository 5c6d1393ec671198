"""Serve one request, then crash the worker the chosen way (or not, for the negative control)."""
import os
import signal

from harness.traffic.http import HttpBackend, get


def run(ctx):
    p = ctx.params
    with HttpBackend(ctx.ns, p["srv_port"]):
        resp = get(ctx.ns, p["fe_port"])
        ctx.precondition("request served", resp.status_code == 200, f"status {resp.status_code}")
    if p["method"] == "sigsegv":
        os.kill(ctx.haproxy.worker_pids()[0], signal.SIGSEGV)
    elif p["method"] == "panic":
        ctx.note("cli", ctx.haproxy.stats.expert("debug dev panic")[:200])
    ctx.haproxy.wait_exit(timeout=10 if p["method"] != "none" else 0.5)
