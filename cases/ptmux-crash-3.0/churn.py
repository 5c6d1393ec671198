"""TLS churn for ptmux-crash-3.0 (recipe §5 (b)): a TLS backend server or a set of looping TLS clients
that end their connections every way the recipe lists (RST, half-close, late close).

Run by the scenario as separate processes inside HAProxy's network namespace (nsenter), so the churn
is not bound by the harness's GIL. Standalone (stdlib only). Prints one JSON line of counters on exit.

    churn.py server --port P --cert PEM --seconds S
    churn.py client --port P --threads T --seconds S
"""
import argparse
import json
import random
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from collections import Counter

PAYLOAD = memoryview(b"x" * 300_000)
stop = threading.Event()
counts = Counter()
lock = threading.Lock()


def bump(key: str, n: int = 1) -> None:
    with lock:
        counts[key] += n


def reset(sock) -> None:
    """Close with SO_LINGER {1,0}: RST instead of FIN (no TLS close_notify either)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def half_close(sock) -> None:
    """TCP FIN on the raw socket while the TLS session stays readable (SSLSocket.shutdown would drop it)."""
    socket.socket.shutdown(sock, socket.SHUT_WR)


def read_all(sock, limit: int = 1 << 22) -> int:
    n = 0
    while n < limit:
        data = sock.recv(65536)
        if not data:
            break
        n += len(data)
    return n


# --- server ----------------------------------------------------------------------------------------
def serve_one(ctx: ssl.SSLContext, raw: socket.socket) -> None:
    r = random.random()
    if r < 0.15:
        bump("srv_rst_at_once")
        reset(raw)
        return
    raw.settimeout(6)
    try:
        s = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        bump("srv_handshake_failed")
        raw.close()
        return
    bump("srv_tls")
    try:
        s.recv(random.randint(1, 4096))
        n = random.randint(10, 300_000)
        s.sendall(PAYLOAD[:n])
        bump("srv_bytes_sent", n)
        end = random.random()
        if end < 0.25:
            bump("srv_close")
            s.close()
        elif end < 0.5:
            time.sleep(random.random() * 0.010)
            bump("srv_rst_late")
            reset(s)
        elif end < 0.75:
            half_close(s)
            read_all(s)
            bump("srv_half_close")
            s.close()
        else:
            time.sleep(random.random() * 0.020)
            bump("srv_close_late")
            s.close()
    except (OSError, ssl.SSLError, ValueError):
        bump("srv_io_error")
        try:
            reset(s)
        except OSError:
            pass


def server(args) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert)
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", args.port))
    lst.listen(1024)
    lst.settimeout(0.2)
    print(json.dumps({"ready": True}), flush=True)
    end = time.monotonic() + args.seconds
    while not stop.is_set() and time.monotonic() < end:
        try:
            raw, _ = lst.accept()
        except (TimeoutError, socket.timeout):
            continue
        except OSError:
            bump("srv_accept_error")
            time.sleep(0.01)
            continue
        bump("srv_accepted")
        threading.Thread(target=serve_one, args=(ctx, raw), daemon=True).start()
    lst.close()


# --- clients ---------------------------------------------------------------------------------------
def client_loop(port: int, end: float) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    while not stop.is_set() and time.monotonic() < end:
        raw = socket.socket()
        raw.settimeout(6)
        try:
            raw.connect(("127.0.0.1", port))
            s = ctx.wrap_socket(raw, server_hostname="localhost")
        except (OSError, ssl.SSLError):
            bump("cli_connect_failed")
            raw.close()
            time.sleep(0.01)
            continue
        bump("cli_tls")
        try:
            n = random.randint(1, 20_000)
            s.sendall(PAYLOAD[:n])
            r = random.random()
            if r < 0.2:
                half_close(s)
                bump("cli_bytes_read", read_all(s))
                bump("cli_half_close_read")
                s.close()
            elif r < 0.4:
                got = 0
                while got < 1024:
                    data = s.recv(1024 - got)
                    if not data:
                        break
                    got += len(data)
                bump("cli_read_1k_rst")
                reset(s)
            elif r < 0.6:
                half_close(s)
                bump("cli_half_close_rst")
                reset(s)
            elif r < 0.8:
                bump("cli_rst_at_once")
                reset(s)
            else:
                time.sleep(random.random() * 0.020)
                bump("cli_close_late")
                s.close()
        except (OSError, ssl.SSLError, ValueError):
            bump("cli_io_error")
            try:
                reset(s)
            except OSError:
                pass


def clients(args) -> None:
    end = time.monotonic() + args.seconds
    threads = [threading.Thread(target=client_loop, args=(args.port, end), daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    print(json.dumps({"ready": True}), flush=True)
    for t in threads:
        while t.is_alive() and not stop.is_set():
            t.join(0.2)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=("server", "client"))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--threads", type=int, default=20)
    p.add_argument("--seconds", type=float, required=True)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    (server if args.role == "server" else clients)(args)
    with lock:
        print(json.dumps(dict(counts)), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
