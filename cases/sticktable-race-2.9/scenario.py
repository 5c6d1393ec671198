"""The reported recipe: oversubscribed threads (32 on 2 cores), 16
stick tables with a 1 ms expire tracked by every request, and a C load generator (wrk, or h2load)
running inside HAProxy's container (same netns, loopback): 300 keep-alive connections pipelining 8
requests, each with one of 4 keys. HAProxy answers itself (`http-request return`), so the rate is
bounded by HAProxy and the client, not by a backend.

The run stops at the first death of HAProxy or after `load_s` seconds of load. The crash oracle
decides, and only on the whole signature (case.toml): a worker SIGILL, the `FATAL: bug condition
"task->expire == 0" matched at src/task.c` line, and a core whose crashing thread runs through
`__task_queue` and `stktable_requeue_exp`. A death without it (watchdog SIGABRT, SIGSEGV, another
BUG_ON...) is an "other failure": untestable, never held. Every run records its exposure so that a miss
is stated as a bound ("0 crashes in T s of load: rate < 3/T"), never as "fixed":
  ctx.exposure(seconds=...)   seconds of load until the end or the death of HAProxy
  ctx.exposure(count=...)     process_table_expire runs during the load (`show profiling tasks`,
                              polled every poll_s: up to the last poll before a death)
  expire_calls_from_requeue   those queued by stktable_requeue_exp (2.9+ name the caller; 2.8 does not)
  haproxy_req_per_s           HAProxy's own CumReq rate up to the last poll (crashed runs too)
  requests_per_s              the client's own figure (wrk/h2load output; absent when HAProxy died)
A clean run whose expire task barely ran (< min_expire_calls) is "trigger not reached" (untestable).
"""
import os
import re
import threading
import time

from harness.runtime_api import CLIError

LOAD_OUT = "load.txt"       # the client's output, in the work dir (kept with the run's evidence)
WRK_SCRIPT = "keys.lua"
URIS = "uris.txt"
PROFILE_LOG = "profiling.txt"

# `  process_table_expire   123456   1.2ms  ...  [<- stktable_requeue_exp@src/stick_table.c:659 task_queue]`
PROF_RE = re.compile(r"^\s+(\S+)\s+(\d+)\s.*?(?:<-\s+(\S+)\s+(\S+))?\s*$")

WRK_LUA = """-- {pipeline} pipelined requests per write, each with x-key k0..k{last} (batches prebuilt once)
local depth, nkeys, batches, n = {pipeline}, {keys}, {{}}, 0
local function build()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  for b = 1, 64 do
    local reqs = {{}}
    for i = 1, depth do
      reqs[i] = wrk.format("GET", "/", {{["x-key"] = "k" .. math.random(0, nkeys - 1)}})
    end
    batches[b] = table.concat(reqs)
  end
end
request = function()
  if #batches == 0 then build() end
  n = n % 64 + 1
  return batches[n]
end
"""


def expire_calls(text: str) -> tuple[int, int] | None:
    """(all process_table_expire calls, those whose caller is stktable_requeue_exp) from
    `show profiling tasks`; None when the output has no task table."""
    if "activity" not in text:
        return None
    total = requeue = 0
    for line in text.splitlines():
        m = PROF_RE.match(line)
        if m and m.group(1) == "process_table_expire":
            total += int(m.group(2))
            if (m.group(3) or "").startswith("stktable_requeue_exp@"):
                requeue += int(m.group(2))
    return total, requeue


def bug_on_armed(vv: str, branch: tuple[int, int]) -> tuple[bool, str]:
    """BUG_ON must be live: DEBUG_STRICT in the build's DEBUG (<= 2.9 Makefiles set it), or the 3.0+
    default (defaults.h defines DEBUG_STRICT 1 when DEBUG is empty); never DEBUG_STRICT(_ACTION)=0."""
    m = re.search(r"^[ \t]*DEBUG[ \t]*=[ \t]*(.*)$", vv, re.M)
    debug = m.group(1).strip() if m else ""
    if re.search(r"-DDEBUG_STRICT(_ACTION)?=0\b", debug):
        return False, f"DEBUG = {debug}"
    return ("-DDEBUG_STRICT" in debug or branch >= (3, 0)), f"DEBUG = {debug or '(empty)'}"


def client_command(p, seconds: int) -> str:
    url = f"http://127.0.0.1:{p['fe_port']}/"
    if p["client"] == "wrk":
        return (f"exec wrk -t{p['client_threads']} -c{p['connections']} -d{seconds}s --timeout 5s "
                f"-s {p['workdir']}/{WRK_SCRIPT} {url} > {p['workdir']}/{LOAD_OUT} 2>&1")
    if p["client"] == "h2load":   # HTTP/1.1, -m = pipeline depth; the key is the path (see key = "path")
        return (f"exec h2load --h1 -t{p['client_threads']} -c{p['connections']} -m{p['pipeline']} "
                f"-D{seconds} -i {p['workdir']}/{URIS} > {p['workdir']}/{LOAD_OUT} 2>&1")
    raise ValueError(f"unknown client {p['client']!r} (wrk or h2load)")


def client_rate(text: str) -> float | None:
    m = re.search(r"Requests/sec:\s+([\d.]+)", text) or re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    return float(m.group(1)) if m else None


def run(ctx):
    p = ctx.params
    ctx.note("load_avg_start", [round(x, 2) for x in os.getloadavg()])   # 2-core machines are often shared
    armed, debug = bug_on_armed(ctx.features.vv, ctx.features.branch)
    ctx.note("debug", debug)
    if not ctx.precondition("BUG_ON armed", armed, debug):
        return
    work = ctx.haproxy.workdir
    (work / WRK_SCRIPT).write_text(WRK_LUA.format(pipeline=int(p["pipeline"]), keys=int(p["keys"]),
                                                  last=int(p["keys"]) - 1))
    (work / URIS).write_text("".join(f"http://127.0.0.1:{p['fe_port']}/k{i}\n" for i in range(int(p["keys"]))))

    def poll() -> tuple[int, int, int, float] | None:
        """(expire task calls, those from stktable_requeue_exp, CumReq, when) or None (no answer)."""
        try:
            text = ctx.haproxy.stats.cmd("show profiling tasks")
            req = int(ctx.haproxy.stats.show_info().get("CumReq", 0))
        except (CLIError, ValueError):
            return None
        with open(ctx.artifacts / PROFILE_LOG, "a") as prof_log:
            prof_log.write(f"=== t={time.monotonic() - ctx.t0:.1f}s CumReq={req}\n{text}\n")
        calls = expire_calls(text)
        return None if calls is None else (*calls, req, time.monotonic())

    base = poll()
    if not ctx.precondition("task profiling answers", base is not None, "show profiling tasks"):
        return
    seconds = int(max(5, min(float(p["load_s"]), ctx.remaining() - 12)))
    load = {}
    client = threading.Thread(target=lambda: load.update(
        out=ctx.haproxy.exec(["sh", "-c", client_command(p, seconds)], timeout=seconds + 8)), daemon=True)
    client.start()
    ctx.mark("load start")
    t0 = time.monotonic()
    last, alive = base, True
    injected = False
    while time.monotonic() - t0 < seconds:
        alive = ctx.watch(min(float(p["poll_s"]), seconds - (time.monotonic() - t0)))
        if not alive:
            break
        last = poll() or last
        if p["inject"] == "bug-on" and not injected:   # sensitivity control: a BUG_ON that is not this bug
            injected = True
            try:
                ctx.note("inject", ctx.haproxy.stats.expert("debug dev bug")[:200])
            except CLIError as exc:
                ctx.note("inject", f"CLI: {exc}")
    exposure = time.monotonic() - t0
    ctx.exposure(seconds=exposure, count=last[0] - base[0], unit="process_table_expire runs")
    ctx.note("expire_calls_from_requeue", last[1] - base[1])
    # HAProxy's own count (CumReq) up to the last poll: a rate for crashed runs too
    ctx.note("haproxy_requests", last[2] - base[2])
    ctx.note("haproxy_req_per_s", round((last[2] - base[2]) / (last[3] - t0)) if last[3] > t0 else None)
    ctx.note("client", f"{p['client']} -c{p['connections']} pipeline {p['pipeline']}, {p['keys']} keys")
    if alive:
        client.join(timeout=15)
        alive = ctx.haproxy.running()
    try:
        out = (work / LOAD_OUT).read_text()
    except OSError:
        out = ""
    ctx.note("requests_per_s", client_rate(out))
    ctx.note("client_output", out[-700:])
    if not alive:   # the crash oracle reads the death (signal, FATAL line, panic, core frames)
        ctx.mark("haproxy exited")
        ctx.note("seconds_to_death", round(exposure, 1))
        return
    ctx.decide()
    calls = last[0] - base[0]
    ctx.precondition("expire task exercised", calls >= int(p["min_expire_calls"]),
                     f"{calls} process_table_expire runs in {exposure:.0f}s "
                     f"({last[1] - base[1]} queued by stktable_requeue_exp), need >= {p['min_expire_calls']}")
