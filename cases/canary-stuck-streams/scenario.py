"""N clients send a request the backend reads but never answers; the clients never finish either.
Decide after every configured timeout has passed (client 3s, server 2s)."""
from harness.traffic.http import LOOPBACK
from harness.traffic.tcp import TcpServer, connect, read_until, reset


def run(ctx):
    p = ctx.params
    n = int(p["streams"])
    with TcpServer(ctx.ns, p["srv_port"], handler=lambda c: read_until(c, b"\r\n\r\n")) as server:
        clients = []
        try:
            for _ in range(n):
                c = connect(ctx.ns, p["fe_port"])
                c.sendall(f"GET / HTTP/1.1\r\nHost: {LOOPBACK}\r\n\r\n".encode())
                clients.append(c)
            ctx.precondition("requests reached the server", server.wait_for(n, 5) == n,
                             f"{len(server.conns)}/{n} server connections")
            ctx.mark("requests sent")
            ctx.watch(float(p["decide_after"]))
            ctx.decide()
        finally:
            for c in clients:
                reset(c)
