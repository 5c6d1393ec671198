"""The peers protocol codec (harness/traffic/peers.py) against HAProxy's encoding rules and a message
captured from a real 3.0.11 peer (a table definition and a timed update of `t1 type ip store gpc0`)."""
import pytest

from harness.traffic import peers as P


@pytest.mark.parametrize("value,wire", [
    (0, "00"), (239, "ef"), (240, "f000"), (241, "f100"), (2287, "ff7f"), (2288, "f08000"),
    (264431, "ff ff 7f"), (264432, "f0 80 80 00"),
])
def test_intencode_boundaries(value, wire):
    """The byte-length thresholds of peers.c (PEER_ENC_*BYTES_MIN: 240, 2288, 264432)."""
    raw = bytes.fromhex(wire.replace(" ", ""))
    assert P.encode_int(value) == raw
    assert P.decode_int(raw, 0) == (value, len(raw))


@pytest.mark.parametrize("value", [0, 1, 239, 240, 2287, 2288, 264431, 264432, 33818863, 33818864, 2**32 - 1,
                                   2**40 + 12345, 2**63 - 1])
def test_intencode_roundtrip(value):
    raw = P.encode_int(value)
    assert P.decode_int(raw + b"\xaa", 0) == (value, len(raw))


def test_decode_incomplete_integer():
    with pytest.raises(P.Incomplete):
        P.decode_int(P.encode_int(300000)[:-1], 0)


def test_hello_is_the_three_line_handshake():
    assert P.hello("hapA", "hapA") == b"HAProxyS 2.1\nhapA\nhapA 4242 1\n"
    h = P.parse_hello(P.hello("hapA", "fake", pid=7))
    assert (h["proto"], h["version"], h["remote"], h["local"], h["pid"]) == ("HAProxyS", "2.1", "hapA", "fake", "7")


def test_control_messages_have_no_length():
    assert P.heartbeat() == b"\x00\x04"
    assert P.control(P.CTRL_RESYNCREQ) == b"\x00\x00"
    with pytest.raises(ValueError):
        P.message(P.CLASS_CONTROL, P.CTRL_HEARTBEAT, b"x")


def test_parse_messages_keeps_an_incomplete_tail():
    t = P.TableDef(1, "/t1", P.KT_IPV4, 4, P.data_bits("gpc0"), 300000)
    stream = P.heartbeat() + t.encode() + P.encode_update(t, "127.0.0.1", {"gpc0": 1}, update_id=1)
    for cut in range(len(stream) + 1):
        msgs, rest = P.parse_messages(stream[:cut])
        assert b"".join(_wire(m) for m in msgs) + rest == stream[:cut]
    msgs, rest = P.parse_messages(stream)
    assert [m.name for m in msgs] == ["heartbeat", "table-define", "update"] and rest == b""


def _wire(m: P.Message) -> bytes:
    return P.message(m.cls, m.type, m.payload)


def test_definition_roundtrip_and_captured_bytes():
    t = P.TableDef(1, "/t1", P.KT_IPV4, 4, P.data_bits("gpc0"), 300000)
    (m,), _ = P.parse_messages(t.encode())
    assert P.parse_definition(m.payload) == t
    assert t.types() == ["gpc0"]
    # the payload 3.0.11 sent for this table: id 1, name "/t1", kt 4, key 4, data bit 2, expire 300000
    assert m.payload[:8] == bytes([1, 3]) + b"/t1" + bytes([4, 4, 4])


def test_update_encodings():
    t = P.TableDef(3, "/t1", P.KT_IPV4, 4, P.data_bits("gpc0", "conn_rate"), 0)
    for uid, exp, type_ in [(9, None, P.STKT_UPDATE), (None, None, P.STKT_INCUPDATE),
                            (9, 5000, P.STKT_UPDATE_TIMED), (None, 5000, P.STKT_INCUPDATE_TIMED)]:
        raw = P.encode_update(t, "10.1.2.3", {"gpc0": 300, "conn_rate": (12, 3, 4)}, update_id=uid, expire_ms=exp)
        (m,), _ = P.parse_messages(raw)
        assert m.type == type_
        u = P.parse_update(m, t, last_id=41)
        assert (u.update_id, u.key, u.expire_ms) == (uid if uid is not None else 42, "10.1.2.3", exp)
        assert u.values == {"gpc0": 300, "conn_rate": (12, 3, 4)}


def test_captured_update_from_haproxy():
    """Bytes 3.0.11 sent: update-timed, id 1, expire 299798 ms, key 127.0.0.1, gpc0 1."""
    t = P.TableDef(1, "/t1", P.KT_IPV4, 4, P.data_bits("gpc0"), 300000)
    body = bytes.fromhex("00000001") + (299798).to_bytes(4, "big") + bytes([127, 0, 0, 1, 1])
    (m,), _ = P.parse_messages(bytes([10, 0x85, len(body)]) + body)
    u = P.parse_update(m, t, 0)
    assert (u.update_id, u.key, u.expire_ms, u.values) == (1, "127.0.0.1", 299798, {"gpc0": 1})


@pytest.mark.parametrize("kt,size,key", [(P.KT_STR, 32, "abc"), (P.KT_SINT, 4, -5), (P.KT_IPV6, 16, "2001:db8::1")])
def test_other_key_types(kt, size, key):
    t = P.TableDef(1, "/s", kt, size, P.data_bits("gpc0"), 0)
    (m,), _ = P.parse_messages(P.encode_update(t, key, {"gpc0": 2}, update_id=1))
    assert P.parse_update(m, t, 0).key == key


def test_ack_roundtrip():
    (m,), _ = P.parse_messages(P.ack(7, 1))
    assert m.name == "ack" and P.parse_ack(m) == (7, 1)


def test_unsupported_data_types_are_refused():
    t = P.TableDef(1, "/t", P.KT_IPV4, 4, P.data_bits("server_key"), 0)
    with pytest.raises(ValueError):
        P.encode_update(t, "1.2.3.4", {})
