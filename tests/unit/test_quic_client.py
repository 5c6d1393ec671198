"""The QUIC/HTTP3 client's plumbing against an in-process aioquic HTTP/3 server on 127.0.0.1 (no Docker):
a normal GET, many streams, the deaf phase (nothing sent, datagrams thrown away), CONNECTION_CLOSE with
a chosen code, a silent vanish, and bounded waits."""
import asyncio
import datetime
import socket
import threading
import time

import pytest
from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, ProtocolNegotiated
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.traffic.quic import H3_NO_ERROR, H3Client, QuicTimeout, h3_get

BODY = 8000


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Server:
    """aioquic's asyncio HTTP/3 server on its own loop thread: answers every request with BODY bytes
    and records how connections ended."""

    def __init__(self, tmp_path):
        cert, key = self_signed(tmp_path)
        self.config = QuicConfiguration(is_client=False, alpn_protocols=list(H3_ALPN))
        self.config.load_cert_chain(str(cert), str(key))
        self.terminated: list[ConnectionTerminated] = []
        self.requests = 0
        self.loop = asyncio.new_event_loop()
        self.port = None
        ready = threading.Event()
        outer = self

        class Proto(QuicConnectionProtocol):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                self.h3 = None

            def quic_event_received(self, ev):
                if isinstance(ev, ProtocolNegotiated):
                    self.h3 = H3Connection(self._quic)
                if isinstance(ev, ConnectionTerminated):
                    outer.terminated.append(ev)
                for h in (self.h3.handle_event(ev) if self.h3 else []):
                    if isinstance(h, HeadersReceived) and h.stream_ended:
                        outer.requests += 1
                        self.h3.send_headers(h.stream_id, [(b":status", b"200"),
                                                           (b"content-length", str(BODY).encode())])
                        self.h3.send_data(h.stream_id, b"x" * BODY, end_stream=True)
                self.transmit()

        def main():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                serve("127.0.0.1", 0, configuration=self.config, create_protocol=Proto))
            self.port = self.server._transport.get_extra_info("sockname")[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def close(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def wait_terminated(self, timeout):
        end = time.monotonic() + timeout
        while not self.terminated and time.monotonic() < end:
            time.sleep(0.02)
        return self.terminated


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    yield s
    s.close()


def test_normal_get(server):
    r = h3_get(None, server.port, "/big", timeout=5)
    assert (r.status, len(r.body), r.ended) == (200, BODY, True)
    assert server.wait_terminated(2)[0].error_code == H3_NO_ERROR


def test_many_streams_in_one_flush(server):
    with H3Client(None, server.port) as c:
        c.connect(5)
        ids = c.open_streams(16, "/big")
        assert len(set(ids)) == 16 and all(i % 4 == 0 for i in ids)   # client-initiated bidi streams
        rs = c.wait_responses(ids, 10)
    assert all(r.status == 200 and len(r.body) == BODY for r in rs)
    assert server.requests == 16


def test_deaf_phase_sends_nothing_and_drops_what_arrives(server):
    with H3Client(None, server.port) as c:
        c.connect(5)
        c.run_for(0.1)
        c.open_streams(16, "/big")
        sent, received = c.counters.sent, c.counters.received
        c.go_deaf(0.4)
        assert c.counters.sent == sent                       # no ACK, no probe left the client
        assert c.counters.received == received               # nothing reached the QUIC stack
        assert c.counters.dropped > 0                        # the server kept sending; we threw it away
        assert not all(r.ended for r in c.responses.values())   # so the responses stay incomplete
        c.close(H3_NO_ERROR, "abort")
        assert c.counters.sent == sent + 1                   # the CONNECTION_CLOSE alone
    (ev,) = server.wait_terminated(2)
    assert (ev.error_code, ev.reason_phrase) == (H3_NO_ERROR, "abort")


def test_vanish_sends_no_close(server):
    c = H3Client(None, server.port, idle_timeout=1.0)
    try:
        c.connect(5)
        assert c.get("/", 5).status == 200
    finally:
        c.vanish()
    assert server.wait_terminated(0.5) == []                 # nothing told the server
    # aioquic's server only notices at the (negotiated, 1 s) idle timeout
    assert server.wait_terminated(5)


def test_waits_are_bounded():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]      # a bound socket nobody reads: datagrams vanish, no ICMP
    try:
        t = time.monotonic()
        with H3Client(None, port) as c, pytest.raises(QuicTimeout, match="QUIC handshake"):
            c.connect(timeout=0.5)
        assert time.monotonic() - t < 2
    finally:
        probe.close()


def test_refused_port_times_out_without_spinning():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()                      # nothing listens: every send draws ICMP port unreachable
    cpu, t = time.process_time(), time.monotonic()
    with H3Client(None, port) as c, pytest.raises(QuicTimeout):
        c.connect(timeout=1.0)
    assert time.monotonic() - t < 3
    assert time.process_time() - cpu < 0.5


def test_request_needs_connect():
    with H3Client(None, 9) as c, pytest.raises(RuntimeError):
        c.send_request("/")
