"""Raw TCP with precise control: stop reading, half-close, reset (SO_LINGER 0), flood until blocked."""
import socket
import struct
import threading
import time

from ..netns import NetNS

LOOPBACK = "127.0.0.1"


def connect(ns: NetNS, port: int, rcvbuf: int | None = None, sndbuf: int | None = None,
            timeout: float = 5.0, host: str = LOOPBACK) -> socket.socket:
    """A client socket created in the namespace; buffers set before connect so they bound the window."""
    s = ns.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER {1,0}: the kernel sends RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def half_close(sock: socket.socket) -> None:
    sock.shutdown(socket.SHUT_WR)


def read_until(sock: socket.socket, marker: bytes, limit: int = 65536) -> bytes:
    """Read until marker (e.g. the end of an HTTP header); bounded by the socket's timeout and limit."""
    buf = b""
    while marker not in buf and len(buf) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def flood_until_blocked(socks: list, chunk: int = 65536, stall: float = 0.5, budget: float = 10.0) -> dict:
    """Write to every (non-blocking) socket until none has progressed for `stall` seconds.
    Returns bytes written per socket index; bounded by `budget` seconds."""
    data = b"x" * chunk
    written = {i: 0 for i in range(len(socks))}
    for s in socks:
        s.setblocking(False)
    last_progress = time.monotonic()
    end = last_progress + budget
    while time.monotonic() - last_progress < stall and time.monotonic() < end:
        progressed = False
        for i, s in enumerate(socks):
            try:
                n = s.send(data)
                if n:
                    written[i] += n
                    progressed = True
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass  # peer gone: counts as blocked
        if progressed:
            last_progress = time.monotonic()
        else:
            time.sleep(0.01)
    return written


class TcpServer:
    """A listening socket in the namespace; each accepted connection goes to handler(conn) in a thread.
    Accepted connections are kept so a scenario can act on all of them (e.g. reset them together)."""

    def __init__(self, ns: NetNS, port: int, handler=None, host: str = LOOPBACK, backlog: int = 1024):
        self.listener = ns.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(backlog)
        self.listener.settimeout(0.2)
        self.handler = handler
        self.conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                self.conns.append(conn)
            if self.handler:
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass

    def wait_for(self, n: int, timeout: float) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(self.conns) < n:
            time.sleep(0.02)
        return len(self.conns)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=2)
        with self._lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
