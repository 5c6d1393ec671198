"""The reported recipe: fill a CONNECT tunnel the client stops reading,
reset the server side, send twice from the client (the first send is swallowed with a pending error,
the second stays blocked), then reset the client and watch whether the streams ever expire."""
import socket
import threading
import time

from harness.traffic.tcp import TcpServer, connect, flood_until_blocked, read_until, reset

ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"


def run(ctx):
    p = ctx.params
    n = int(p["streams"])
    answered = threading.Semaphore(0)

    def tunnel_server(conn):
        read_until(conn, b"\r\n\r\n")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        conn.sendall(ESTABLISHED)
        answered.release()

    with TcpServer(ctx.ns, p["srv_port"], handler=tunnel_server) as server:
        clients = []
        try:
            authority = f"127.0.0.1:{p['srv_port']}"
            for _ in range(n):
                c = connect(ctx.ns, p["fe_port"], rcvbuf=4096)
                c.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
                clients.append(c)
            heads = [read_until(c, b"\r\n\r\n") for c in clients]
            ok = sum(h.startswith(b"HTTP/1.1 200") for h in heads)
            for _ in range(n):
                answered.acquire(timeout=5)
            if not ctx.precondition("tunnels established", ok == n, f"{ok}/{n} CONNECT answered 200"):
                return
            filled = flood_until_blocked(server.conns, stall=0.5, budget=10)  # client never reads
            ctx.note("bytes_per_tunnel", sum(filled.values()) // max(1, len(filled)))
            with ctx.capture("trigger"):   # the resets and sends of the trigger window, as packets
                for s in server.conns:  # server resets: haproxy, not polling that socket, misses it
                    reset(s)
                time.sleep(0.5)
                for _ in (1, 2):  # both sends are required (the first is swallowed)
                    for c in clients:
                        c.sendall(b"y" * 1000)
                    time.sleep(0.5)
                blocked = [b for b in ctx.haproxy.stats.show_sess_all() if "fe_leak" in b and "MSG_TUNNEL" in b]
                ctx.note("tunnel_streams_before_trigger", len(blocked))
                ctx.precondition("streams in tunnel state with a blocked send", len(blocked) >= 0.9 * n,
                                 f"{len(blocked)}/{n} fe_leak streams in MSG_TUNNEL")
                for c in clients:  # the trigger instant T
                    reset(c)
                clients = []
                ctx.mark("T (client reset)")
                time.sleep(0.2)   # the resets' packets
            ctx.watch(float(p["client_timeout_s"]) + float(p["server_timeout_s"]) + 2)
            ctx.decide()
        finally:
            for c in clients:
                reset(c)
