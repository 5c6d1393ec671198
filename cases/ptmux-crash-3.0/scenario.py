"""Recipe §5 (b): TLS churn through a `mode tcp` proxy with TLS on both sides, for a bounded time.

A TLS backend server and looping TLS clients (churn.py, separate processes inside HAProxy's network
namespace) end connections every way the recipe lists; `busy_procs` CPU burners beside HAProxy give the
race the preemption it needs whatever else the machine runs (on an idle machine 3.0.3 survived 88 s of
churn without them). The run stops at the first death of HAProxy or
after `churn_s` seconds. The crash oracle (SIGSEGV only) decides; the exposure (seconds of churn, TLS
connections on both sides) is recorded so a miss can be stated as "not reproduced in N minutes / M
connections", never as "fixed".
"""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.runtime_api import CLIError

CHURN = Path(__file__).with_name("churn.py")


def _spawn(ctx, *args):
    return ctx.ns.popen([sys.executable, str(CHURN), *map(str, args)], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)


def _stop(procs) -> dict:
    total = {}
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        lines = [line for line in out.splitlines() if line.startswith("{")]
        stats = json.loads(lines[-1]) if lines else {}
        for k, v in stats.items():
            if isinstance(v, int) and not isinstance(v, bool):
                total[k] = total.get(k, 0) + v
        if err.strip():
            total.setdefault("stderr", []).append(err.strip()[-500:])
    return total


def _ready(p, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if p.poll() is not None:
            return False
        line = p.stdout.readline()
        if '"ready"' in line:
            return True
    return False


def run(ctx):
    p = ctx.params
    seconds = min(float(p["churn_s"]), ctx.remaining() - 20)
    server = _spawn(ctx, "server", "--port", p["be_port"], "--cert", ctx.variant.case.path / "localhost.pem",
                    "--seconds", seconds + 5)
    procs = [server]
    churned, survived, info = 0.0, True, {}
    try:
        if not ctx.precondition("TLS backend server listening", _ready(server, 10)):
            return
        for _ in range(int(p.get("busy_procs", 0))):   # CPU contention: the race needs preempted threads
            ctx.background(["sh", "-c", "while :; do :; done"], timeout=seconds + 5)
        for _ in range(int(p["client_procs"])):
            c = _spawn(ctx, "client", "--port", p["fe_port"], "--threads", p["client_threads"], "--seconds", seconds)
            procs.append(c)
            _ready(c, 10)
        ctx.mark("churn start")
        t0 = time.monotonic()
        survived = ctx.watch(seconds, interval=2)
        churned = time.monotonic() - t0
        ctx.mark("churn end")
        if survived:
            try:
                info = ctx.haproxy.stats.show_info()
            except CLIError:
                pass
    finally:
        stats = _stop(procs)
    ctx.note("churn_seconds", round(churned, 1))
    ctx.exposure(seconds=churned)     # seconds of load until the end or the crash
    ctx.note("haproxy_survived", survived)
    ctx.note("churn", stats)
    ctx.note("haproxy_cum_ssl_conns", info.get("CumSslConns"))
    ctx.note("haproxy_cum_conns", info.get("CumConns"))
    tls_both = min(stats.get("cli_tls", 0), stats.get("srv_tls", 0))
    ctx.note("tls_connections_both_sides", tls_both)
    if not survived:   # the crash oracle judges the death: a SIGSEGV, or another failure (never held)
        ctx.haproxy.wait_exit(timeout=10)   # let the master write the worker's exit line, and the core land
        return
    ctx.precondition("TLS churn flowed on both sides", tls_both >= int(p["min_connections"]),
                     f"{stats.get('cli_tls', 0)} client TLS sessions, {stats.get('srv_tls', 0)} server TLS sessions "
                     f"in {churned:.0f}s (need {p['min_connections']})")
    ctx.decide()
