"""The fake peer (harness/traffic/peers.py) against a real HAProxy peer."""
import pytest

from harness.case import find
from harness.instance import HAProxyInstance, socket_paths
from harness.templates import render
from harness.traffic import peers as P
from harness.traffic.tcp import connect

pytestmark = pytest.mark.docker


def test_fake_peer_syncs_a_stick_table_entry_both_ways(images, prepared):
    """Two-instance sync: HAProxy 3.0.11 teaches the fake peer its entry, and learns (and acks) one
    the fake peer pushes with HAProxy's own table definition."""
    _, b, why = prepared("3.0.11")
    assert b, why
    (variant,) = find("peers-appctx-3.0/fin")
    cfg = render(variant.case.template, {**socket_paths(), "local_peer": "hapA", "peer_port": 10000,
                                         "trig_port": 8080, "hold_ms": 0,
                                         "remote_peers": [{"name": "fake", "addr": "127.0.0.1:10999"}]})
    files = {"busy.lua": (variant.case.path / "busy.lua").read_text()}
    with HAProxyInstance(b, images, cfg, "test-fake-peer", files=files) as h:
        c = connect(h.netns, 8080)          # the trigger frontend tracks 127.0.0.1: gpc0 = 1
        c.sendall(b"x")
        assert c.recv(16) == b""            # rejected after the table update
        c.close()
        peer = P.Peer.connect(h.netns, 10000)
        try:
            assert peer.handshake("hapA", "fake") == P.SUCCESS
            peer.send(P.control(P.CTRL_RESYNCREQ))
            assert peer.wait_for(lambda s: ("/t1", "127.0.0.1") in s.entries, 8), peer.names()
            (table,) = peer.tables.values()
            assert (table.key_type, table.key_size, table.types()) == (P.KT_IPV4, 4, ["gpc0"])
            assert peer.entries[("/t1", "127.0.0.1")].values == {"gpc0": 1}
            mine = P.TableDef(7, table.name, table.key_type, table.key_size, table.data_types, table.expire_ms,
                              table.params)
            peer.send(mine.encode() + P.encode_update(mine, "10.1.2.3", {"gpc0": 42}, update_id=1))
            assert peer.wait_for(lambda s: any(m.name == "ack" for m in s.messages), 5), peer.names()
            assert P.parse_ack(next(m for m in peer.messages if m.name == "ack")) == (7, 1)
            table_dump = h.stats.cmd("show table mypeers/t1")
            assert "key=10.1.2.3 " in table_dump and "gpc0=42" in table_dump, table_dump
            assert "id=fake(remote" in h.stats.cmd("show peers")
        finally:
            peer.close()
