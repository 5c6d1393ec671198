"""HAProxy's peers protocol (src/peers.c, protocol 2.1), enough to act as a peer from a scenario:
the hello and its status line, control messages (heartbeat, resync), stick-table definitions,
updates and acks, both ways.

Wire format: after the text handshake every message is a 2-byte header (class, type); stick-table
messages (type bit 7 set) carry a length then a payload. Integers use HAProxy's variable-length encoding
(`intencode`: < 240 in one byte, else the low 4 bits marked 0xf0, then 7 bits a byte, bit 7 = more).
Update ids, `*_TIMED` expiries, SINT keys are 4-byte network-order words; IPv4/IPv6 keys raw bytes.
"""
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from ..netns import NetNS
from .tcp import TcpServer, reset

PROTO_NAME = "HAProxyS"
VERSION = "2.1"

# status codes of the handshake (PEER_SESS_SC_*)
SUCCESS, TRY_AGAIN, ERR_PROTO, ERR_VERSION, ERR_HOST, ERR_PEER = 200, 300, 501, 502, 503, 504

# message classes and types
CLASS_CONTROL, CLASS_ERROR, CLASS_STICKTABLE = 0, 1, 10
CTRL_RESYNCREQ, CTRL_RESYNCFINISHED, CTRL_RESYNCPARTIAL, CTRL_RESYNCCONFIRM, CTRL_HEARTBEAT = 0, 1, 2, 3, 4
ERR_PROTOCOL, ERR_SIZELIMIT = 0, 1
STKT_UPDATE, STKT_INCUPDATE, STKT_DEFINE, STKT_SWITCH, STKT_ACK, STKT_UPDATE_TIMED, STKT_INCUPDATE_TIMED = \
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86
UPDATE_TYPES = (STKT_UPDATE, STKT_INCUPDATE, STKT_UPDATE_TIMED, STKT_INCUPDATE_TIMED)

# key types on the wire (PEER_KT_*) and their fixed sizes
KT_SINT, KT_IPV4, KT_IPV6, KT_STR, KT_BIN = 2, 4, 5, 6, 7

# stick-table data types (STKTABLE_DT_*, their index is the bit in a definition's bitfield) and how
# each value is encoded in an update: sint/uint/ull one varint, frqp three (age ms, curr, prev)
DATA_TYPES = ["server_id", "gpt0", "gpc0", "gpc0_rate", "conn_cnt", "conn_rate", "conn_cur", "sess_cnt",
              "sess_rate", "http_req_cnt", "http_req_rate", "http_err_cnt", "http_err_rate", "bytes_in_cnt",
              "bytes_in_rate", "bytes_out_cnt", "bytes_out_rate", "gpc1", "gpc1_rate", "server_key",
              "http_fail_cnt", "http_fail_rate", "gpt", "gpc", "gpc_rate", "glitch_cnt", "glitch_rate"]
FRQP = {"gpc0_rate", "conn_rate", "sess_rate", "http_req_rate", "http_err_rate", "bytes_in_rate",
        "bytes_out_rate", "gpc1_rate", "http_fail_rate", "glitch_rate"}
UNSUPPORTED = {"server_key", "gpt", "gpc", "gpc_rate"}    # dictionary entries and arrays: not needed yet


class Incomplete(Exception):
    """The buffer ends inside a message: read more."""


class ProtocolError(Exception):
    pass


# --- integers ----------------------------------------------------------------------------------------
def encode_int(i: int) -> bytes:
    if i < 0:
        i &= (1 << 64) - 1
    if i < 0xf0:
        return bytes([i])
    out = [(i & 0xff) | 0xf0]
    i = (i - 0xf0) >> 4
    while i >= 0x80:
        out.append((i & 0xff) | 0x80)
        i = (i - 0x80) >> 7
    out.append(i)
    return bytes(out)


def decode_int(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, next position); Incomplete when the buffer ends inside the integer."""
    if pos >= len(buf):
        raise Incomplete
    i = buf[pos]
    pos += 1
    if i >= 0xf0:
        shift = 4
        while True:
            if pos >= len(buf):
                raise Incomplete
            b = buf[pos]
            i += b << shift
            shift += 7
            pos += 1
            if b < 0x80:
                break
    return i, pos


# --- handshake ---------------------------------------------------------------------------------------
def hello(remote: str, local: str, pid: int = 4242, relative_pid: int = 1, version: str = VERSION) -> bytes:
    """What a connecting peer sends: protocol+version, the name of the peer it connects to, its own
    name with pid and relative pid (a reloading process uses the local peer's own name twice)."""
    return f"{PROTO_NAME} {version}\n{remote}\n{local} {pid} {relative_pid}\n".encode()


def parse_hello(data: bytes) -> dict | None:
    """A received hello (three lines), or None while incomplete."""
    lines = data.split(b"\n")
    if len(lines) < 4:
        return None
    proto, _, version = lines[0].decode().partition(" ")
    local, pid, rel = (lines[2].decode().split() + ["", ""])[:3]
    return {"proto": proto, "version": version, "remote": lines[1].decode(), "local": local, "pid": pid,
            "relative_pid": rel, "size": sum(len(x) + 1 for x in lines[:3])}


# --- messages ----------------------------------------------------------------------------------------
def message(cls: int, type_: int, payload: bytes = b"") -> bytes:
    if type_ & 0x80:
        return bytes([cls, type_]) + encode_int(len(payload)) + payload
    if payload:
        raise ValueError("only stick-table messages (type >= 0x80) carry a payload")
    return bytes([cls, type_])


def heartbeat() -> bytes:
    return message(CLASS_CONTROL, CTRL_HEARTBEAT)


def control(type_: int) -> bytes:
    return message(CLASS_CONTROL, type_)


@dataclass
class Message:
    cls: int
    type: int
    payload: bytes = b""

    @property
    def name(self) -> str:
        names = {(CLASS_CONTROL, CTRL_RESYNCREQ): "resync-request", (CLASS_CONTROL, CTRL_RESYNCFINISHED):
                 "resync-finished", (CLASS_CONTROL, CTRL_RESYNCPARTIAL): "resync-partial",
                 (CLASS_CONTROL, CTRL_RESYNCCONFIRM): "resync-confirm", (CLASS_CONTROL, CTRL_HEARTBEAT): "heartbeat",
                 (CLASS_ERROR, ERR_PROTOCOL): "error-protocol", (CLASS_ERROR, ERR_SIZELIMIT): "error-size",
                 (CLASS_STICKTABLE, STKT_DEFINE): "table-define", (CLASS_STICKTABLE, STKT_SWITCH): "table-switch",
                 (CLASS_STICKTABLE, STKT_ACK): "ack", (CLASS_STICKTABLE, STKT_UPDATE): "update",
                 (CLASS_STICKTABLE, STKT_INCUPDATE): "inc-update", (CLASS_STICKTABLE, STKT_UPDATE_TIMED):
                 "update-timed", (CLASS_STICKTABLE, STKT_INCUPDATE_TIMED): "inc-update-timed"}
        return names.get((self.cls, self.type), f"class{self.cls}/type{self.type:#x}")


def parse_messages(buf: bytes) -> tuple[list[Message], bytes]:
    """Every complete message at the start of buf, and the rest (an incomplete tail)."""
    out, pos = [], 0
    while pos + 2 <= len(buf):
        cls, type_ = buf[pos], buf[pos + 1]
        if type_ & 0x80:
            try:
                length, start = decode_int(buf, pos + 2)
            except Incomplete:
                break
            if start + length > len(buf):
                break
            out.append(Message(cls, type_, bytes(buf[start:start + length])))
            pos = start + length
        else:
            out.append(Message(cls, type_))
            pos += 2
    return out, bytes(buf[pos:])


# --- stick tables ------------------------------------------------------------------------------------
@dataclass
class TableDef:
    id: int                   # the sender's id for this table (updates and acks refer to it)
    name: str                 # the table's network name (`nid`: its name in the peers section)
    key_type: int             # KT_*
    key_size: int
    data_types: int           # bitfield of DATA_TYPES indexes
    expire_ms: int = 0
    params: bytes = b""       # the data types' parameters (freq counter periods, array sizes)

    def types(self) -> list[str]:
        return [name for i, name in enumerate(DATA_TYPES) if self.data_types & (1 << i)]

    def encode(self) -> bytes:
        body = (encode_int(self.id) + encode_int(len(self.name)) + self.name.encode() + encode_int(self.key_type)
                + encode_int(self.key_size) + encode_int(self.data_types) + encode_int(self.expire_ms) + self.params)
        return message(CLASS_STICKTABLE, STKT_DEFINE, body)


def data_bits(*names: str) -> int:
    return sum(1 << DATA_TYPES.index(n) for n in names)


def parse_definition(payload: bytes) -> TableDef:
    tid, pos = decode_int(payload, 0)
    n, pos = decode_int(payload, pos)
    name = payload[pos:pos + n].decode()
    pos += n
    key_type, pos = decode_int(payload, pos)
    key_size, pos = decode_int(payload, pos)
    data, pos = decode_int(payload, pos)
    expire = 0
    if pos < len(payload):
        expire, pos = decode_int(payload, pos)
    return TableDef(tid, name, key_type, key_size, data, expire, payload[pos:])


@dataclass
class Update:
    update_id: int
    key: object               # str for STR, int for SINT, dotted quad for IPV4, bytes otherwise
    values: dict = field(default_factory=dict)   # data type name -> int (frqp: (age_ms, curr, prev))
    expire_ms: int | None = None


def _encode_key(table: TableDef, key) -> bytes:
    if table.key_type == KT_STR:
        raw = key.encode() if isinstance(key, str) else bytes(key)
        return encode_int(len(raw)) + raw
    if table.key_type == KT_SINT:
        return struct.pack("!I", int(key) & 0xffffffff)
    if table.key_type == KT_IPV4:
        return socket.inet_aton(key) if isinstance(key, str) else bytes(key)
    if table.key_type == KT_IPV6:
        return socket.inet_pton(socket.AF_INET6, key) if isinstance(key, str) else bytes(key)
    raw = bytes(key)
    return raw + b"\0" * (table.key_size - len(raw))


def encode_update(table: TableDef, key, values: dict, update_id: int | None = None,
                  expire_ms: int | None = None) -> bytes:
    """An update of one entry (with an explicit id unless None: then the receiver counts +1)."""
    body = b""
    if update_id is not None:
        body += struct.pack("!I", update_id)
    if expire_ms is not None:
        body += struct.pack("!I", expire_ms)
    body += _encode_key(table, key)
    for name in table.types():
        if name in UNSUPPORTED:
            raise ValueError(f"data type {name} is not supported by this peer")
        v = values.get(name, (0, 0, 0) if name in FRQP else 0)
        body += b"".join(encode_int(x) for x in v) if name in FRQP else encode_int(v)
    timed = expire_ms is not None
    type_ = (STKT_UPDATE_TIMED if timed else STKT_UPDATE) if update_id is not None else \
        (STKT_INCUPDATE_TIMED if timed else STKT_INCUPDATE)
    return message(CLASS_STICKTABLE, type_, body)


def parse_update(msg: Message, table: TableDef, last_id: int) -> Update:
    p, pos = msg.payload, 0
    if msg.type in (STKT_UPDATE, STKT_UPDATE_TIMED):
        (uid,), pos = struct.unpack_from("!I", p, 0), 4
    else:
        uid = last_id + 1
    expire = None
    if msg.type in (STKT_UPDATE_TIMED, STKT_INCUPDATE_TIMED):
        (expire,) = struct.unpack_from("!I", p, pos)
        pos += 4
    if table.key_type == KT_STR:
        n, pos = decode_int(p, pos)
        key = p[pos:pos + n].decode(errors="replace")
        pos += n
    elif table.key_type == KT_SINT:
        (key,) = struct.unpack_from("!i", p, pos)
        pos += 4
    elif table.key_type == KT_IPV4:
        key = socket.inet_ntoa(p[pos:pos + 4])
        pos += 4
    elif table.key_type == KT_IPV6:
        key = socket.inet_ntop(socket.AF_INET6, p[pos:pos + 16])
        pos += 16
    else:
        key = p[pos:pos + table.key_size]
        pos += table.key_size
    values = {}
    for name in table.types():
        if name in UNSUPPORTED:
            raise ProtocolError(f"data type {name} is not supported by this peer")
        if name in FRQP:
            a, pos = decode_int(p, pos)
            b, pos = decode_int(p, pos)
            c, pos = decode_int(p, pos)
            values[name] = (a, b, c)
        else:
            values[name], pos = decode_int(p, pos)
    return Update(uid, key, values, expire)


def ack(table_id: int, update_id: int) -> bytes:
    return message(CLASS_STICKTABLE, STKT_ACK, encode_int(table_id) + struct.pack("!I", update_id))


def parse_ack(msg: Message) -> tuple[int, int]:
    tid, pos = decode_int(msg.payload, 0)
    (uid,) = struct.unpack_from("!I", msg.payload, pos)
    return tid, uid


# --- a peer over a socket ----------------------------------------------------------------------------
class Peer:
    """One peer session from the scenario's side: connect (in HAProxy's netns) or wrap an accepted socket,
    handshake, send messages, and read what HAProxy sends, decoding its tables and updates.

    `received` keeps every raw byte with its arrival time (monotonic), so a scenario can say exactly
    what arrived when (e.g. "only `200\\n` while the sync task was held")."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""
        self.received: list[tuple[float, bytes]] = []
        self.eof_at: float | None = None
        self.error = ""
        self.status: int | None = None
        self.messages: list[Message] = []
        self.tables: dict[int, TableDef] = {}      # the remote's definitions by its table id
        self.entries: dict[tuple[str, object], Update] = {}   # (table name, key) -> last update
        self._current: TableDef | None = None
        self._last_id = 0

    @classmethod
    def connect(cls, ns: NetNS, port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> "Peer":
        s = ns.socket()
        s.settimeout(timeout)
        s.connect((host, port))
        return cls(s)

    # sending
    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # receiving
    def _recv(self, timeout: float) -> bool:
        """One read bounded by timeout; False on timeout or EOF."""
        if self.eof_at is not None:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, socket.timeout):
            return False
        except OSError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.eof_at = time.monotonic()
            return False
        if not data:
            self.eof_at = time.monotonic()
            return False
        self.received.append((time.monotonic(), data))
        self.buf += data
        return True

    def bytes_until(self, t: float) -> bytes:
        return b"".join(d for at, d in self.received if at <= t)

    def read_status(self, timeout: float = 5.0) -> int | None:
        """The handshake's status line (`200\\n` on success)."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf and self._recv(end - time.monotonic()):
            pass
        line, sep, rest = self.buf.partition(b"\n")
        if not sep:
            return None
        self.buf = rest
        self.status = int(line.decode(errors="replace").strip() or 0)
        return self.status

    def handshake(self, remote: str, local: str, timeout: float = 5.0, **kw) -> int | None:
        self.send(hello(remote, local, **kw))
        return self.read_status(timeout)

    def poll(self, timeout: float) -> list[Message]:
        """Read for up to timeout (until EOF): the status line first if not read yet, then complete
        messages, tracking the remote's tables and entries."""
        end = time.monotonic() + timeout
        new = []
        while True:
            got = self._recv(end - time.monotonic())
            if self.status is None:          # the handshake's status line comes first
                line, sep, rest = self.buf.partition(b"\n")
                if not sep:
                    if not got and (self.eof_at is not None or time.monotonic() >= end):
                        return new
                    continue
                self.buf, self.status = rest, int(line.decode(errors="replace").strip() or 0)
            msgs, self.buf = parse_messages(self.buf)
            for m in msgs:
                self._track(m)
            new += msgs
            if not got and (self.eof_at is not None or time.monotonic() >= end):
                return new

    def wait_for(self, predicate, timeout: float) -> bool:
        """Poll until predicate(self) holds, EOF, or timeout."""
        end = time.monotonic() + timeout
        while not predicate(self):
            if self.eof_at is not None or time.monotonic() >= end:
                return predicate(self)
            self.poll(min(0.1, max(0.0, end - time.monotonic())))
        return True

    def _track(self, m: Message) -> None:
        self.messages.append(m)
        if m.cls != CLASS_STICKTABLE:
            return
        if m.type == STKT_DEFINE:
            t = parse_definition(m.payload)
            self.tables[t.id] = t
            self._current = t
        elif m.type == STKT_SWITCH:
            tid, _ = decode_int(m.payload, 0)
            self._current = self.tables.get(tid)
        elif m.type in UPDATE_TYPES and self._current is not None:
            u = parse_update(m, self._current, self._last_id)
            self._last_id = u.update_id
            self.entries[(self._current.name, u.key)] = u

    def names(self) -> list[str]:
        return [m.name for m in self.messages]


# --- linking namespaces ------------------------------------------------------------------------------
class Link(TcpServer):
    """A TCP link from a listener in one network namespace to an address in another, for peers that
    cannot reach each other directly (an isolated HAProxy and a mesh on a private Docker network).
    Bytes, half-closes (FIN) and resets are passed on; nothing leaves the two namespaces.
    `Link(ns_a, 11001, ns_b, ("127.0.0.1", 10000))`: A's 127.0.0.1:11001 reaches B's 127.0.0.1:10000."""

    def __init__(self, listen_ns: NetNS, listen_port: int, connect_ns: NetNS, target: tuple[str, int],
                 host: str = "127.0.0.1"):
        self.connect_ns, self.target = connect_ns, target
        super().__init__(listen_ns, listen_port, handler=self._relay, host=host, backlog=64)

    def _relay(self, a: socket.socket) -> None:
        try:
            b = self.connect_ns.socket()
            b.settimeout(2)
            b.connect(self.target)
            b.settimeout(None)
        except OSError:
            reset(a)
            return
        with self._lock:
            self.conns.append(b)
        pump = threading.Thread(target=self._pump, args=(b, a), daemon=True)
        pump.start()
        self._pump(a, b)
        pump.join()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
        except OSError:
            reset(dst)
            reset(src)
