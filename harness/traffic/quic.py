"""QUIC / HTTP/3 with precise control: aioquic's sans-IO `QuicConnection` driven over a UDP socket made
inside HAProxy's network namespace, so a scenario decides every datagram's fate.

What it can do besides a normal HTTP/3 request: open many request streams in one flush; go *deaf* (keep
draining the socket but feed nothing to the QUIC stack, which then sends nothing: no ACK, no probe);
end the connection with a CONNECTION_CLOSE of a chosen error code, or vanish silently (socket closed,
the server only learns it from its idle timeout).

Bounded: every wait takes a timeout (a handshake or response that does not come raises `QuicTimeout`);
the socket is closed by `close()`/`vanish()`, by the context manager, or in `finally` by callers.
No certificate verification (tests use throwaway self-signed certificates).
"""
import select
import socket
import ssl
import time
from dataclasses import dataclass, field

from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted, StreamReset

from .tcp import LOOPBACK

H3_NO_ERROR = 0x100
H3_REQUEST_CANCELLED = 0x10C
_RECV_SIZE = 65536


class QuicError(Exception):
    """The connection did not behave as an HTTP/3 connection should (wrong ALPN, terminated)."""


class QuicTimeout(QuicError, TimeoutError):
    """A bounded wait (handshake, response) ended before its condition was met."""


@dataclass
class H3Response:
    stream_id: int
    headers: list = field(default_factory=list)     # [(name, value)] as bytes
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False                              # the server's FIN arrived
    reset: int | None = None                         # RESET_STREAM error code, if any

    @property
    def status(self) -> int | None:
        for k, v in self.headers:
            if k == b":status":
                return int(v)
        return None


@dataclass
class Counters:
    sent: int = 0                 # datagrams sent
    sent_bytes: int = 0
    received: int = 0             # datagrams fed to the QUIC stack
    received_bytes: int = 0
    dropped: int = 0              # datagrams read while deaf and thrown away
    dropped_bytes: int = 0


class H3Client:
    """One HTTP/3 client connection.

    `ns` is a `NetNS` (the socket is created in that namespace) or None for the caller's own namespace.
    `idle_timeout` is the client's max_idle_timeout transport parameter (the server uses the lower of
    both, so a short one makes a silent client expire quickly on the server).
    """

    def __init__(self, ns, port: int, host: str = LOOPBACK, server_name: str = "localhost",
                 idle_timeout: float = 60.0):
        self.addr = (host, port)
        self.authority = f"{server_name}:{port}"
        self.config = QuicConfiguration(is_client=True, alpn_protocols=list(H3_ALPN),
                                        verify_mode=ssl.CERT_NONE, server_name=server_name,
                                        idle_timeout=idle_timeout)
        self.quic = QuicConnection(configuration=self.config)
        # before the handshake, as aioquic's own client does: the server's control and QPACK encoder
        # streams can arrive with the handshake's last flight and must not be missed
        self.h3 = H3Connection(self.quic)
        self.sock = ns.socket(socket.AF_INET, socket.SOCK_DGRAM) if ns is not None else \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            self.sock.connect(self.addr)   # connected UDP: only the server's datagrams are read
        except BaseException:
            self.sock.close()
            raise
        self.responses: dict[int, H3Response] = {}
        self.counters = Counters()
        self.handshake_done = False
        self.alpn: str | None = None
        self.terminated: ConnectionTerminated | None = None
        self.deaf = False
        self.closed = False
        self._started = False

    # --- the loop ---------------------------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic()

    def flush(self) -> int:
        """Send what the QUIC stack has queued (nothing while deaf); returns datagrams sent."""
        if self.deaf or self.closed or not self._started:
            return 0
        n = 0
        for data, _ in self.quic.datagrams_to_send(now=self._now()):
            try:
                self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                continue   # a loopback UDP send buffer full: QUIC's loss recovery handles the drop
            except OSError:
                break      # ICMP port unreachable on a connected socket: the server is gone
            n += 1
            self.counters.sent += 1
            self.counters.sent_bytes += len(data)
        return n

    def _read_available(self) -> bool:
        """Read every queued datagram; False when the socket reported an error instead."""
        while True:
            try:
                data = self.sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                return False   # ECONNREFUSED (nothing listening): the waits time out and say so
            if self.deaf:
                self.counters.dropped += 1
                self.counters.dropped_bytes += len(data)
            else:
                self.counters.received += 1
                self.counters.received_bytes += len(data)
                self.quic.receive_datagram(data, self.addr, now=self._now())

    def _handle_events(self) -> None:
        while (ev := self.quic.next_event()) is not None:
            if isinstance(ev, HandshakeCompleted):
                self.handshake_done = True
                self.alpn = ev.alpn_protocol
            elif isinstance(ev, ConnectionTerminated):
                self.terminated = ev
            elif isinstance(ev, StreamReset) and ev.stream_id in self.responses:
                self.responses[ev.stream_id].reset = ev.error_code
            for h3ev in self.h3.handle_event(ev):
                self._on_h3(h3ev)

    def _on_h3(self, ev) -> None:
        if isinstance(ev, HeadersReceived) and ev.stream_id in self.responses:
            r = self.responses[ev.stream_id]
            r.headers += ev.headers
            r.ended |= ev.stream_ended
        elif isinstance(ev, DataReceived) and ev.stream_id in self.responses:
            r = self.responses[ev.stream_id]
            r.body += ev.data
            r.ended |= ev.stream_ended

    def step(self, until: float) -> None:
        """Wait for a datagram or the QUIC timer (at most until `until`), process, flush."""
        if self.closed:
            return
        timer = None if self.deaf else self.quic.get_timer()
        wake = until if timer is None else min(until, timer)
        readable, _, _ = select.select([self.sock], [], [], max(0.0, wake - self._now()))
        if readable and not self._read_available():
            time.sleep(min(0.05, max(0.0, until - self._now())))   # no busy loop on a refused socket
        if not self.deaf:
            if timer is not None and self._now() >= timer:
                self.quic.handle_timer(now=self._now())
            self._handle_events()
            self.flush()

    def run_for(self, seconds: float) -> None:
        """Normal (or deaf, if set) processing for `seconds`."""
        end = self._now() + seconds
        while self._now() < end and not self.closed:
            self.step(end)

    def wait_until(self, predicate, timeout: float, what: str) -> None:
        end = self._now() + timeout
        while not predicate():
            if self.terminated is not None:
                raise QuicError(f"connection terminated while waiting for {what}: "
                                  f"error {self.terminated.error_code:#x} {self.terminated.reason_phrase!r}")
            if self._now() >= end or self.closed:
                raise QuicTimeout(f"no {what} within {timeout}s ({self.counters})")
            self.step(end)

    # --- HTTP/3 -----------------------------------------------------------------------------------
    def connect(self, timeout: float = 5.0) -> "H3Client":
        """Handshake with ALPN h3, then the HTTP/3 control and QPACK streams (SETTINGS)."""
        self.quic.connect(self.addr, now=self._now())
        self._started = True
        self.flush()
        self.wait_until(lambda: self.handshake_done, timeout, "QUIC handshake")
        if self.alpn not in H3_ALPN:
            raise QuicError(f"server negotiated ALPN {self.alpn!r}, not h3")
        self.flush()
        return self

    def send_request(self, path: str, method: str = "GET", headers: list | None = None,
                     body: bytes | None = None, flush: bool = True) -> int:
        """Open a request stream (FIN with the HEADERS unless there is a body); returns its id."""
        if not self.handshake_done:
            raise RuntimeError("connect() first")
        sid = self.quic.get_next_available_stream_id()
        self.responses[sid] = H3Response(sid)
        hdrs = [(b":method", method.encode()), (b":scheme", b"https"), (b":authority", self.authority.encode()),
                (b":path", path.encode()), (b"user-agent", b"hrt-aioquic")] + list(headers or [])
        self.h3.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.h3.send_data(sid, body, end_stream=True)
        if flush:
            self.flush()
        return sid

    def open_streams(self, n: int, path: str, method: str = "GET") -> list[int]:
        """`n` requests queued together and sent in one flush."""
        ids = [self.send_request(path, method, flush=False) for _ in range(n)]
        self.flush()
        return ids

    def wait_responses(self, ids: list[int], timeout: float) -> list[H3Response]:
        self.wait_until(lambda: all(self.responses[i].ended or self.responses[i].reset is not None for i in ids),
                        timeout, f"complete responses on {len(ids)} stream(s)")
        return [self.responses[i] for i in ids]

    def get(self, path: str, timeout: float = 5.0) -> H3Response:
        (resp,) = self.wait_responses([self.send_request(path)], timeout)
        return resp

    # --- misbehaviour -----------------------------------------------------------------------------
    def go_deaf(self, seconds: float = 0.0) -> Counters:
        """Stop acknowledging: from now on datagrams are drained from the socket and thrown away, the
        QUIC stack gets neither them nor its timers, so it sends nothing (no ACK, no probe). Drains for
        `seconds` before returning; stays deaf until `hear()`."""
        self.deaf = True
        self.run_for(seconds)
        return self.counters

    def drain(self, seconds: float) -> None:
        """Keep the socket drained (while deaf) for `seconds`, e.g. while the harness inspects HAProxy."""
        self.run_for(seconds)

    def hear(self) -> None:
        """Back to normal processing (the stack sees datagrams and timers again)."""
        self.deaf = False

    def close(self, error_code: int = H3_NO_ERROR, reason: str = "") -> None:
        """CONNECTION_CLOSE (application close once HTTP/3 runs; a transport close before), then close
        the socket. Sent even while deaf: only the close frame is built, no ACK."""
        if self.closed:
            return
        try:
            self.quic.close(error_code=error_code, reason_phrase=reason)
            self.deaf = False
            self.flush()
        finally:
            self._close_socket()

    def vanish(self) -> None:
        """Disappear silently: close the socket, send nothing (the server times the connection out)."""
        self._close_socket()

    def _close_socket(self) -> None:
        self.closed = True
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._close_socket()


def h3_get(ns, port: int, path: str = "/", host: str = LOOPBACK, timeout: float = 5.0,
           server_name: str = "localhost") -> H3Response:
    """One HTTP/3 GET on a fresh connection, closed cleanly afterwards (H3_NO_ERROR)."""
    client = H3Client(ns, port, host=host, server_name=server_name)
    try:
        client.connect(timeout)
        return client.get(path, timeout)
    finally:
        client.close()
