"""The reported recipe (haproxy#2467): many concurrent short connections through a
`mode tcp` frontend carrying Lua filters (one attach and one detach per connection), until HAProxy
dies or the time / connection budget is spent.

The client is wrk (HTTP/1.1 with `Connection: close`: one TCP connection per request), run beside
HAProxy (ctx.background) in its network namespace, on its loopback; the backend is an HTTP
responder in the same HAProxy. Counters come from the runtime API: `show stat` (fe_tcp sessions)
and the case's Lua CLI command `repro global` (filters created in the shared Lua state)."""
import time

from harness.runtime_api import CLIError

WRK_OUT = "wrk.txt"   # in the work dir: kept with the run's evidence


def fe_sessions(ctx, frontend="fe_tcp") -> int | None:
    """Cumulated sessions (stot) of the frontend, from `show stat`."""
    try:
        text = ctx.haproxy.stats.cmd("show stat")
    except CLIError:
        return None
    header = None
    for line in text.splitlines():
        if line.startswith("# "):
            header = line[2:].split(",")
        elif header and line.startswith(f"{frontend},FRONTEND,"):
            return int(dict(zip(header, line.split(",")))["stot"])
    return None


def lua_counters(ctx, gc=False, state="global") -> dict | None:
    """`repro global [gc]`: {"created": rg filters created, "heap_kb": shared Lua heap}; `repro thread`:
    the same for rt in the Lua state of the thread serving the command (all of it with nbthread 1)."""
    try:
        text = ctx.haproxy.stats.cmd(f"repro {state} gc" if gc else f"repro {state}")
    except CLIError as exc:
        ctx.note(f"repro_{state}_unanswered", str(exc)[:200])
        return None
    fields = dict(f.split("=", 1) for f in text.split() if "=" in f)
    try:
        return {"created": int(fields["created"]), "heap_kb": int(fields["heap_kb"])}
    except (KeyError, ValueError):   # e.g. a Lua error instead of the counters (a corrupted state)
        ctx.note(f"repro_{state}_answer", text[:300])
        return None


def start_wrk(ctx, p, seconds: int):
    """wrk beside HAProxy (its network namespace), for `seconds` of load."""
    cmd = (f"exec wrk -t{p['client_threads']} -c{p['concurrency']} -d{seconds}s --timeout 5s "
           f"-H 'Connection: close' http://127.0.0.1:{p['fe_port']}/ > {p['workdir']}/{WRK_OUT} 2>&1")
    return ctx.background(["sh", "-c", cmd], timeout=seconds + 10)


def run(ctx):
    p = ctx.params
    budget_s = float(p["budget_s"])
    max_conns = int(p["max_conns"])
    base_sess = fe_sessions(ctx)
    base_lua = lua_counters(ctx, gc=True)
    if not ctx.precondition("runtime API and Lua CLI answer", base_sess is not None and base_lua is not None,
                            f"fe_tcp stot={base_sess}, repro global={base_lua}"):
        return
    ctx.note("lua_heap_kb_before", base_lua["heap_kb"])
    # rt (lua-load-per-thread) is counted per thread: exact with nbthread 1 (mixed-load), else not read
    per_thread = bool(p["lua_load_per_thread"]) and int(p["nbthread"]) == 1
    base_rt = lua_counters(ctx, state="thread") if per_thread else None

    seconds = max(1, int(min(budget_s, ctx.remaining() - 15)))
    wrk = start_wrk(ctx, p, seconds)
    ctx.mark("traffic")
    t0 = time.monotonic()
    last = {"t": 0.0, "conns": 0, "created": 0}
    stopped_early = False
    alive = True
    while True:
        alive = ctx.watch(0.25, interval=0.25)   # False as soon as HAProxy exited
        if not alive:
            break
        sess, lua = fe_sessions(ctx), lua_counters(ctx)
        if sess is not None and lua is not None:
            last = {"t": round(time.monotonic() - t0, 2), "conns": sess - base_sess,
                    "created": lua["created"] - base_lua["created"]}
        if not wrk.running():
            break
        if last["conns"] >= max_conns:
            wrk.stop()
            stopped_early = True
            break
    elapsed = time.monotonic() - t0
    ctx.note("last_sample", last)   # the counters 0.25 s or less before the end (or the crash)
    if not alive:
        # HAProxy exited during the traffic: the crash oracle judges why (signal, core, backtrace)
        ctx.mark("haproxy exited")
        ctx.note("seconds_to_exit", round(elapsed, 2))
        ctx.note("connections_before_exit", last["conns"])
        # seconds and connections of traffic until the crash (the count is the last sample's: a lower bound)
        ctx.exposure(seconds=elapsed, count=last["conns"], unit="connections")
        return

    # wait for wrk's last connections to end (it stops at its -d budget; killed when over max_conns)
    end = time.monotonic() + 10
    while wrk.running() and time.monotonic() < end:
        time.sleep(0.2)
    ctx.watch(1.0)   # a crash at the very end of the traffic still counts
    sess, lua = fe_sessions(ctx), lua_counters(ctx, gc=True)
    if sess is None or lua is None:
        if not ctx.haproxy.running():
            ctx.note("seconds_to_exit", round(time.monotonic() - t0, 2))
            ctx.exposure(seconds=elapsed, count=last["conns"], unit="connections")   # it died at its end
            return   # HAProxy died at the end: the crash oracle judges it
        # alive but its counters are unreadable (a Lua error or a stuck CLI): no clean end, never "held"
        ctx.decide()
        ctx.precondition("counters readable after the traffic", False,
                         f"fe_tcp stot={sess}, repro global gc={lua} (HAProxy still running)")
        return
    conns, created = sess - base_sess, lua["created"] - base_lua["created"]
    rate = conns / elapsed if elapsed else 0
    ctx.note("connections", conns)
    ctx.note("filters_created_rg", created)
    ctx.note("seconds_of_traffic", round(elapsed, 1))
    ctx.exposure(seconds=elapsed, count=conns, unit="connections")
    ctx.note("connections_per_s", round(rate))
    ctx.note("stopped_at_max_conns", stopped_early)
    ctx.note("lua_heap_kb_after_gc", lua["heap_kb"])
    try:
        ctx.note("wrk", (ctx.haproxy.workdir / WRK_OUT).read_text()[-600:])
    except OSError:
        pass
    rt = lua_counters(ctx, state="thread") if per_thread else None
    ctx.decide()
    # the trigger path: enough streams, each one through every Lua filter (attach + detach)
    ctx.precondition("streams through the lua-load filter", conns > 0 and created >= 0.95 * conns,
                     f"{created} rg filters created for {conns} fe_tcp sessions")
    if per_thread:
        created_rt = (rt["created"] - base_rt["created"]) if rt and base_rt else -1
        ctx.note("filters_created_rt", created_rt)
        ctx.precondition("streams through the lua-load-per-thread filter", conns > 0 and created_rt >= 0.95 * conns,
                         f"{created_rt} rt filters created for {conns} fe_tcp sessions")
    ctx.precondition("load reached", conns >= int(p["min_conns"]),
                     f"{conns} connections in {elapsed:.0f}s ({rate:.0f}/s), need >= {p['min_conns']}")
