"""The reported recipe, repeated over several connections per HAProxy process.

Per connection: an HTTP/3 handshake and a short warm-up with normal processing (handshake and SETTINGS
ACKed); `streams` GETs of an 8000-byte body in one flush; the client goes deaf (drains its socket but
feeds nothing to its QUIC stack, so it ACKs nothing) while HAProxy fills its `tx_bufs` stream Tx
buffers and hits the limit; the harness checks on the qmux trace that the limit was hit; then the
client ends the connection the way `close` says, and the worker is watched until the trace shows the
connection released (`application layer released`) or the worker dies:
  - "connection-close": CONNECTION_CLOSE, H3_NO_ERROR, reason "abort" (the recipe);
  - "vanish": the client's socket is closed without a word; HAProxy's next datagram draws an ICMP port
    unreachable, its connection socket reports the error and the connection is released;
  - "idle": the socket stays open and deaf; HAProxy's QUIC idle timeout (lowered to `idle_timeout_s`
    by the client's transport parameter) releases the connection.

Preconditions (a failed one makes the run untestable, never held):
  - every connection hit the stream Tx buffer limit (qmux trace) before its close;
  - at every close the connection was still opened with its MUX ready and its Tx buffers exhausted
    (`show quic full`: QC_CF_CONN_FULL in the QCC flags on 3.0; on 2.8/2.9, which do not print them,
    at least `tx_bufs` request streams still holding unacknowledged data). An ACKing client hits the
    limit too, for a moment, but has its buffers back before the close: only this check tells it apart;
  - on a surviving worker, every connection went through qcc_release ("application layer released")
    within the window;
  - a fresh HTTP/3 GET after the last release answers 200 with the full body: a held verdict rests on a
    worker that went through the release path and still serves (alive but wedged is not "held").
"""
import re
import time
from pathlib import Path

from harness.runtime_api import CLIError
from harness.traffic.quic import H3_NO_ERROR, H3Client, QuicError, h3_get

BODY_BYTES = (Path(__file__).with_name("body-8000.txt")).stat().st_size
LIMIT_HIT = "hitting stream desc buffer limit"
RELEASED = "application layer released"
TRACE_ON = ("trace qmux sink qmuxtrace", "trace qmux level state", "trace qmux event any",
            "trace qmux start now")


QC_CF_CONN_FULL = 0x8          # include/haproxy/mux_quic-t.h, 2.8 to 3.0


def conn_block(show_quic_full: str, client_port: int) -> str:
    """The `show quic full` block of the connection whose peer is our client's port ("" if none)."""
    for block in re.split(r"(?m)^(?=\* 0x)", show_quic_full):
        if re.search(rf"foreign_addr=[^\s]*:{client_port}\b", block):
            return block
    return ""


def tx_exhausted(block: str, tx_bufs: int) -> tuple[bool, str]:
    """Did the connection still hold its stream Tx buffers, MUX ready, at this instant?
    3.0 prints the QCC flags (QC_CF_CONN_FULL); 2.8/2.9 list the stream descriptors still holding
    data (a request stream's descriptor stays while its data is unacknowledged): with an ACKing client
    they are gone, with a deaf one at least `tx_bufs` request streams remain."""
    if not block:
        return False, "connection not in show quic full"
    st, mux = re.search(r"\bst=(\w+)", block), re.search(r"\bmux=(\w+)", block)
    state = f"st={st.group(1) if st else '?'} mux={mux.group(1) if mux else '?'}"
    if "st=opened" not in state or "mux=ready" not in state:
        return False, state
    m = re.search(r"qcc=(?:0x)+[0-9a-f]+ flags=0x([0-9a-f]+)", block)   # "0x%p": 0x0x7f...
    if m:
        flags = int(m.group(1), 16)
        return bool(flags & QC_CF_CONN_FULL), f"{state}, qcc flags=0x{flags:x}"
    req = [int(i) for i in re.findall(r"\bstream=(\d+)", block) if int(i) % 4 == 0]
    return len(req) >= tx_bufs, f"{state}, {len(req)} request stream descriptors hold data"


def _events(ctx) -> str:
    return ctx.haproxy.stats.cmd("show events qmuxtrace")


def _count(ctx, marker: str) -> int:
    return _events(ctx).count(marker)


def _wait_count(ctx, marker: str, above: int, timeout: float) -> int:
    """Poll the trace ring until `marker` occurs more than `above` times; stops early if HAProxy died."""
    end = time.monotonic() + timeout
    n = above
    while time.monotonic() < end and ctx.haproxy.running():
        try:
            n = _count(ctx, marker)
        except CLIError:
            time.sleep(0.2)  # a dying worker: the container stops shortly, running() then says so
            continue
        if n > above:
            break
        time.sleep(0.05)
    return n


def _window(p) -> float:
    """How long to wait for the release after the close (a bound: the poll stops at the release).
    2.8/2.9 release at once on CONNECTION_CLOSE or ICMP; 3.0 keeps the streams still attached to the
    stream layer until `timeout client`; "idle" first waits for HAProxy's idle timeout."""
    if p["close"] == "idle":
        return float(p["idle_timeout_s"]) + float(p["idle_settle_s"])
    return float(p["settle_s"])


def _connection(ctx, i: int, log: dict) -> str:
    """One connection through the recipe; returns what ended it ("alive", "died", or an error)."""
    p = ctx.params
    idle = p["close"] == "idle"
    client = H3Client(ctx.ns, int(p["port"]), idle_timeout=float(p["idle_timeout_s"]) if idle else 60.0)
    try:
        client.connect(timeout=5)
        client.run_for(float(p["warmup_s"]))
        hits0, rel0 = _count(ctx, LIMIT_HIT), _count(ctx, RELEASED)
        client.open_streams(int(p["streams"]), "/big")
        if p["deaf"]:
            client.go_deaf(float(p["deaf_s"]))
        else:
            client.run_for(float(p["deaf_s"]))   # sensitivity control: a client that keeps ACKing
        hits = _count(ctx, LIMIT_HIT)
        block = conn_block(ctx.haproxy.stats.cmd("show quic full"), client.sock.getsockname()[1])
        full, detail = tx_exhausted(block, int(p["tx_bufs"]))
        log["limit_hit"].append(hits > hits0)
        log["tx_exhausted"].append(full)
        log["state_at_close"].append(detail)
        sess = ctx.haproxy.stats.cmd("show sess")
        log["h3_streams_at_close"].append(sum(1 for line in sess.splitlines() if "fe=fe_h3" in line))
        if i == 0:
            ctx.note("show_quic_full_at_close", block[-4000:])
        log["deaf_dropped"].append(client.counters.dropped)
        ctx.mark(f"close {i}")
        if p["close"] == "connection-close":
            client.close(H3_NO_ERROR, "abort")
        elif p["close"] == "vanish":
            client.vanish()   # HAProxy's next datagram draws an ICMP port unreachable
        # "idle": the socket stays open and deaf (no ICMP, no ACK) until HAProxy's idle timeout
        released = _wait_count(ctx, RELEASED, rel0, _window(p))
        if not ctx.haproxy.running():
            return "died"
        log["released"].append(released > rel0)
        return "alive"
    except QuicError as exc:
        return "died" if not ctx.haproxy.running() else f"client error: {exc}"
    except CLIError as exc:
        return "died" if not ctx.haproxy.running() else f"CLI error: {exc}"
    finally:
        client.vanish()   # idempotent: the socket is closed whatever happened


CLOSES = ("connection-close", "vanish", "idle")


def run(ctx):
    p = ctx.params
    if p["close"] not in CLOSES:
        raise ValueError(f"params.close must be one of {', '.join(CLOSES)}, got {p['close']!r}")
    n = int(p["connections"])
    ctx.haproxy.stats.cmd(*TRACE_ON)
    log = {"limit_hit": [], "tx_exhausted": [], "state_at_close": [], "released": [], "h3_streams_at_close": [],
           "deaf_dropped": []}
    outcomes = []
    for i in range(n):
        if ctx.remaining() < _window(p) + 10:
            break           # stay inside the run's bound; the release precondition then says so
        outcome = _connection(ctx, i, log)
        outcomes.append(outcome)
        if outcome != "alive":
            break
    ctx.note("connections", outcomes)
    ctx.note("per_connection", log)
    # exposure (the rate is per connection): those that reached the trigger state at their close and went
    # through the release, or died in it
    ctx.exposure(count=sum(1 for i, (o, hit, full) in enumerate(zip(outcomes, log["limit_hit"], log["tx_exhausted"]))
                           if hit and full and (o == "died" or (o == "alive" and log["released"][i]))),
                 unit="connections")
    died = outcomes and outcomes[-1] == "died"
    if died:
        ctx.mark("worker died")
        ctx.haproxy.wait_exit(timeout=5)   # the master follows its worker; logs and core settle
    errors = [o for o in outcomes if o not in ("alive", "died")]
    hits, full = sum(log["limit_hit"]), sum(log["tx_exhausted"])
    ctx.precondition("stream Tx buffer limit hit before every close",
                     not errors and hits == len(outcomes) and hits > 0,
                     f"{hits}/{len(outcomes)} connections hit it" + (f"; {errors[0]}" if errors else ""))
    ctx.precondition("Tx buffers still exhausted, MUX ready, at every close", full == len(outcomes) and full > 0,
                     f"{full}/{len(outcomes)} connections; first: {(log['state_at_close'] or ['-'])[0]}")
    if died:
        return
    rel = sum(log["released"])
    ctx.precondition("every connection released through qcc_release", rel == len(outcomes) == n,
                     f"{rel}/{len(outcomes)} of {n} connections showed '{RELEASED}' within the window")
    try:
        r = h3_get(ctx.ns, int(p["port"]), "/big", timeout=5)
        ok, detail = r.status == 200 and len(r.body) == BODY_BYTES, f"status {r.status}, {len(r.body)} bytes"
    except QuicError as exc:
        ok, detail = False, str(exc)
    ctx.precondition("fresh HTTP/3 GET served after the releases", ok, detail)
    ctx.decide()
