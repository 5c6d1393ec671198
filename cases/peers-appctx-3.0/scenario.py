"""The reported recipe (a): hold the peers sync task's thread with a slow
Lua converter, then have a peer (harness/traffic/peers.py) connect under the local peer's own name,
send its hello plus heartbeats in one write and a FIN. The local applet validates the session, waits
for the sync task (PEER_F_WAIT_SYNCTASK_ACK) and, without the fix, is re-woken without consuming until
"A bogus APPCTX ... is spinning" aborts the process.

What is recorded: what the peer received and when (relative to the FIN), whether the trigger held its
thread for the whole hold, the worker's thread-1 CPU during the window, `show peers` afterwards.
"""
import contextlib
import re
import threading
import time

import psutil

from harness.runtime_api import CLIError, RuntimeAPI
from harness.traffic import peers as P
from harness.traffic.tcp import connect

def thread1_cpu(pid: int) -> float | None:
    """utime+stime of the worker's main thread (thread 1: tid == pid)."""
    try:
        for t in psutil.Process(pid).threads():
            if t.id == pid:
                return t.user_time + t.system_time
    except psutil.Error:
        pass
    return None


def hold_thread(ctx, port: int, result: dict) -> None:
    """One byte to the trigger frontend: the table update queues the sync task on thread 2, then the
    converter holds thread 2; the connection ends (reject) when the hold is over."""
    c = connect(ctx.ns, port, timeout=10)
    try:
        result["sent"] = time.monotonic()
        c.sendall(b"x")
        try:
            c.recv(16)
        except OSError as exc:
            result["error"] = str(exc)
        result["ended"] = time.monotonic()
    finally:
        c.close()


def table_keys(api: RuntimeAPI) -> set:
    try:
        return set(re.findall(r"key=(\S+)", api.cmd("show table mypeers/t1")))
    except CLIError:
        return set()


def mesh_up(ctx, stack: contextlib.ExitStack) -> bool:
    """Real peers hapB, hapC... (ctx.instance: same build, their own containers on a private network):
    they talk to each other over that network and to the HAProxy under test (network none) through
    Links between namespaces. Precondition: an entry set on A reaches every peer, one set on B reaches A and C."""
    p = ctx.params
    remotes = p["remote_peers"]                  # A's view: [{name, addr=127.0.0.1:<link port>}]
    net = ctx.network("mesh")
    addr = {r["name"]: net.address(i) for i, r in enumerate(remotes, 1)}
    nodes = {}
    for r in remotes:
        peers = [{"name": p["local_peer"], "addr": f"127.0.0.1:{p['mesh_link_port']}"}] + \
                [{"name": o["name"], "addr": f"{addr[o['name']]}:{p['peer_port']}"} for o in remotes if o is not r]
        node = ctx.instance(r["name"], {"local_peer": r["name"], "peer_bind": "0.0.0.0", "hold_ms": 0,
                                        "remote_peers": peers}, network=net)
        nodes[r["name"]] = node
        got = node.address()
        if not ctx.precondition(f"{r['name']} at its predicted address", got == addr[r["name"]],
                                f"{got} (expected {addr[r['name']]})"):
            return False
        link_port = int(r["addr"].rsplit(":", 1)[1])
        stack.enter_context(P.Link(ctx.ns, link_port, node.netns, ("127.0.0.1", p["peer_port"])))     # A -> r
        stack.enter_context(P.Link(node.netns, p["mesh_link_port"], ctx.ns, ("127.0.0.1", p["peer_port"])))  # r -> A
    ctx.note("mesh", {"network": net.name, "subnet": str(net.subnet), "peers": addr})
    first = remotes[0]["name"]
    ctx.haproxy.stats.cmd("set table mypeers/t1 key 10.0.0.1 data.gpc0 5")
    nodes[first].stats.cmd("set table mypeers/t1 key 10.0.0.2 data.gpc0 7")
    want = {"10.0.0.1", "10.0.0.2"}
    apis = {p["local_peer"]: ctx.haproxy.stats, **{n: h.stats for n, h in nodes.items()}}
    end = time.monotonic() + float(p["mesh_sync_s"])
    seen = {}
    while time.monotonic() < end:
        seen = {n: sorted(table_keys(a) & want) for n, a in apis.items()}
        if all(len(v) == len(want) for v in seen.values()):
            break
        time.sleep(0.25)
    ctx.note("mesh_entries", seen)
    ctx.note("mesh_sync_s", round(float(p["mesh_sync_s"]) - (end - time.monotonic()), 1))
    return ctx.precondition("mesh synced (A<->peers through links, peers among themselves on the network)",
                            all(len(v) == len(want) for v in seen.values()), str(seen))


def run(ctx):
    with contextlib.ExitStack() as stack:
        if ctx.params.get("remote_peers") and not mesh_up(ctx, stack):
            return
        recipe(ctx)


def recipe(ctx):
    p = ctx.params
    hold = float(p["hold_ms"]) / 1000
    fin = bool(p["fin"])
    time.sleep(float(p["settle_s"]))                 # the initial resync timers are gone
    worker = ctx.haproxy.worker_pids()[0]
    cpu0 = thread1_cpu(worker)
    trig: dict = {}
    holder = threading.Thread(target=hold_thread, args=(ctx, p["trig_port"], trig), daemon=True)
    holder.start()
    # the hold has begun once the trigger's own table update is visible (sc-inc-gpc0 runs just before
    # the converter); asked on the thread-1 socket, which the hold does not block. Under load a fixed
    # delay is not enough: the peer could be validated before thread 2 even read the trigger.
    t1 = RuntimeAPI(str(ctx.haproxy.workdir / "t1.sock"), timeout=2)
    seen_end, held = time.monotonic() + 3, False
    while not held and time.monotonic() < seen_end:
        held = "key=127.0.0.1 " in t1.cmd("show table mypeers/t1")
        time.sleep(0 if held else 0.01)
    ctx.note("hold_seen_after_trigger_s", round(time.monotonic() - trig.get("sent", time.monotonic()), 3))
    if not ctx.precondition("trigger's table update seen (the hold has begun)", held):
        return
    time.sleep(float(p["peer_delay_s"]))
    peer = P.Peer.connect(ctx.ns, p["peer_port"])
    peer.send(P.hello(p["local_peer"], p["local_peer"]) + P.heartbeat() * int(p["heartbeats"]))
    if fin:
        peer.shutdown_write()
    t_fin = time.monotonic()
    ctx.mark("peer hello + heartbeats" + (" + FIN" if fin else ""))
    samples = []
    end = t_fin + hold + float(p["after_hold_s"])
    while time.monotonic() < end:
        if peer.eof_at is None:
            peer.poll(0.2)
        else:
            time.sleep(0.2)
        alive = ctx.haproxy.running()
        cpu = thread1_cpu(worker)
        samples.append({"t": round(time.monotonic() - t_fin, 2), "alive": alive,
                        "thread1_cpu_s": None if cpu is None or cpu0 is None else round(cpu - cpu0, 3),
                        "bytes": sum(len(d) for _, d in peer.received), "eof": peer.eof_at is not None})
        if not alive:
            break
    holder.join(timeout=5)
    alive = ctx.haproxy.running()
    hold_end = trig.get("ended")
    rel = lambda t: None if t is None else round(t - t_fin, 3)   # noqa: E731
    ctx.note("samples", samples)
    ctx.note("received", [(rel(at), d.decode(errors="replace")) for at, d in peer.received][:20])
    ctx.note("peer_eof_after_fin_s", rel(peer.eof_at))
    ctx.note("hold_measured_s", None if hold_end is None else round(hold_end - trig["sent"], 3))
    ctx.note("hold_end_after_fin_s", rel(hold_end))
    cpu_max = max((s["thread1_cpu_s"] or 0) for s in samples) if samples else None
    ctx.note("thread1_cpu_max_s", cpu_max)
    if not alive:   # the crash oracle judges the death: the spin's abort, or another failure
        ctx.haproxy.wait_exit(timeout=10)
        peer.close()
        return
    # HAProxy survived: the run only counts if the trigger state was really reached. The peer applet
    # (thread 1) may act a few ms before the trigger's close (thread 2) is seen: 100 ms of slack.
    cutoff = (hold_end or 0) - 0.1
    during = peer.bytes_until(cutoff)
    ctx.precondition("sync task held for the whole hold",
                     hold_end is not None and hold_end - trig["sent"] >= 0.9 * hold,
                     f"trigger connection ended after {ctx.notes['hold_measured_s']}s (hold {hold}s)")
    ctx.precondition("applet waited: only `200` while the sync task was held", during == b"200\n",
                     f"received during the hold: {during[:60]!r}")
    if fin:
        ctx.precondition("EOF only after the hold", peer.eof_at is not None and hold_end is not None
                         and peer.eof_at >= cutoff, f"EOF at {rel(peer.eof_at)}s, hold ended at {rel(hold_end)}s")
    else:
        after = [m for m in peer.messages if m.cls == P.CLASS_STICKTABLE]
        ctx.precondition("stick-table messages after the hold", bool(after),
                         f"messages after the hold: {peer.names()[:8]}")
    peer.close()
    show = RuntimeAPI(str(ctx.haproxy.workdir / "t1.sock")).cmd("show peers")
    m = re.search(rf"id={re.escape(p['local_peer'])}\(local.*?last_status=(\S+).*?rx_hbt=(\d+)", show, re.S)
    ctx.note("show_peers_local", {"last_status": m.group(1), "rx_hbt": int(m.group(2))} if m else show[:400])
    ctx.decide()
