"""The three cases behind haproxy#2656 (seed 003) against real builds: peers-appctx-3.0,
ptmux-crash-3.0 and mcli-multi-command; the fake peer against a real HAProxy peer; the peer mesh on a
private Docker network. With a mirror, the mainline pairs around the fixes separate."""
import time

import docker
import pytest

from harness.case import find
from harness.dockerenv import LABEL
from harness.instance import HAProxyInstance, socket_paths
from harness.runner import check, prepare, run_once
from harness.templates import render
from harness.traffic import peers as P
from harness.traffic.tcp import connect
from tests.conftest import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]

PEERS_BAD, PEERS_GOOD = "184f16ded7a0274bffe99a4795d0a27f8be7c006", "78b8b6003082b54a24fa7b13be954f73248cc9d4"
MCLI_BAD, MCLI_GOOD = "76fa71f7a8d27006ea1b06b417963501d3a5fcab", "d4781bd5e7f0e0c0491fb7dfccb4da5c15055e3f"


def run(variant_id, spec, images, prepared=None):
    (variant,) = find(variant_id)
    return check(variant, spec, images=images, prepared=prepared(spec) if prepared else None)


def assert_trigger_reached(result):
    for r in result.runs:
        assert r.preconditions and all(v.startswith("ok") for v in r.preconditions.values()), r.preconditions


# --- the fake peer against a real HAProxy peer ---------------------------------------------------------
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


# --- peers-appctx-3.0 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["fin", "nofin"])
def test_peers_recipe_holds_on_3_0_11(variant, images, prepared):
    r = run(f"peers-appctx-3.0/{variant}", "3.0.11", images, prepared)
    assert r.verdict == "held", r.reason
    assert_trigger_reached(r)
    n = r.runs[0].notes
    assert n["received"][0][1] == "200\n" and n["show_peers_local"]["rx_hbt"] == 8, n


def test_peer_mesh_on_a_private_network(images, prepared):
    """Real peers in their own containers on an hrt network: the mesh syncs, the recipe runs on A,
    and the network and containers are gone afterwards."""
    (variant,) = find("peers-appctx-3.0/mesh")
    r = check(variant, "3.0.11", runs=1, images=images, prepared=prepared("3.0.11"))
    assert r.verdict == "held", r.reason
    assert_trigger_reached(r)
    assert set(r.runs[0].notes["mesh_entries"]) == {"hapA", "hapB", "hapC"}
    net = r.runs[0].notes["mesh"]["network"]
    d = docker.from_env()
    assert not d.networks.list(names=[net])
    assert not [c for c in d.containers.list(all=True, filters={"label": LABEL}) if net in str(c.attrs)]


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(PEERS_BAD, "reproduced"), (PEERS_GOOD, "held")])
def test_peers_mainline_pair_around_the_fix(commit, verdict, images):
    repo = need_mirror(commit)
    (variant,) = find("peers-appctx-3.0/fin")
    r = check(variant, f"git:{repo}@{commit[:9]}", runs=1, images=images)
    assert r.expected == verdict, r.expected_why
    assert r.verdict == verdict, r.reason
    if verdict == "reproduced":
        crash = next(f for f in r.runs[0].findings if f["oracle"] == "crash")
        assert crash["details"]["signals"] == ["SIGILL"] and crash["details"]["cores"]
        assert "task_run_applet" in crash["details"]["signature"]


# --- ptmux-crash-3.0 ------------------------------------------------------------------------------------
def test_ptmux_churn_holds_on_3_0_11(images, prepared):
    """A short churn (the case's own runs are 60 s each): TLS flows on both sides, no crash."""
    _, b, why = prepared("3.0.11")
    assert b, why
    (variant,) = find("ptmux-crash-3.0")
    out = run_once(variant, b, images, "3.0.11", 1, {"churn_s": 20, "min_connections": 300})
    assert out.verdict == "held", out.reason
    assert all(v.startswith("ok") for v in out.preconditions.values()), out.preconditions
    churn = out.notes["churn"]
    assert churn["cli_tls"] > 300 and churn["srv_tls"] > 300 and out.notes["haproxy_survived"]


# --- mcli-multi-command ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["3.0.11", "2.6.12"])
@pytest.mark.parametrize("mode", ["line", "prompt"])
def test_mcli_every_command_answers(spec, mode, images, prepared):
    (variant,) = find(f"mcli-multi-command/{mode}")
    r = check(variant, spec, runs=1, images=images, prepared=prepared(spec))
    assert r.verdict == "held", r.reason
    answers = next(f for f in r.runs[0].findings if f["oracle"] == "answers")
    assert not answers["details"]["missing"] and answers["details"]["exchanges"] >= 3


def test_answers_oracle_fires_on_missing_answers_without_the_bug(images, prepared):
    """Control on a build without the mcli bug: `@9 show info` (there is no worker 9) answers nothing,
    so the answers oracle must fire, and nothing crashed."""
    _, b, why = prepared("3.0.11")
    assert b, why
    (variant,) = find("mcli-multi-command/line")
    out = run_once(variant, b, images, "3.0.11", 1, {"sessions": [["@1 show info", "@9 show info"]]})
    assert out.verdict == "reproduced", out.reason
    answers = next(f for f in out.findings if f["oracle"] == "answers")
    assert answers["details"]["missing"] == {"session 1: @1 show info; @9 show info": {r"^Name: HAProxy\s*$": "1/2"}}
    assert not next(f for f in out.findings if f["oracle"] == "crash")["fired"]


@pytest.mark.mirror
def test_answers_oracle_fires_on_the_pipelined_modes_limit_of_3_0_4(images):
    """Control with a real limitation, not this bug: `@1; expert-mode on; show info; show version`
    answers nothing on 3.0.4 (a948603e9, fixed in 3.0.5); the mcli case itself never uses that form."""
    need_mirror("v3.0.4")
    (variant,) = find("mcli-multi-command/line")
    _, b, why = prepare("3.0.4", "default", images)
    assert b, why
    pipelined = [["@1", "expert-mode on", "show info", "show version"]]
    out = run_once(variant, b, images, "3.0.4", 1, {"sessions": pipelined})
    assert out.verdict == "reproduced", out.reason
    assert not next(f for f in out.findings if f["oracle"] == "crash")["fired"]


@pytest.mark.mirror
@pytest.mark.parametrize("commit,verdict", [(MCLI_BAD, "reproduced"), (MCLI_GOOD, "held")])
def test_mcli_mainline_pair(commit, verdict, images):
    repo = need_mirror(commit)
    for variant in find("mcli-multi-command"):
        t0 = time.monotonic()
        r = check(variant, f"git:{repo}@{commit[:9]}", runs=1, images=images)
        assert r.expected == verdict, r.expected_why
        assert r.verdict == verdict, (variant.id, r.reason)
        assert time.monotonic() - t0 < 60
