"""peers-appctx-3.0 (haproxy#2656, crash a) against real builds: the recipe and its control hold on
3.0.11, the mesh on a private Docker network syncs and leaves nothing behind; with a mirror, the
mainline pair around the fix separates."""
import docker
import pytest

from harness.case import find
from harness.dockerenv import LABEL
from harness.runner import check
from tests.support import need_mirror

pytestmark = [pytest.mark.docker, pytest.mark.case]

PEERS_BAD, PEERS_GOOD = "184f16ded7a0274bffe99a4795d0a27f8be7c006", "78b8b6003082b54a24fa7b13be954f73248cc9d4"


def run(variant_id, spec, images, prepared=None):
    (variant,) = find(variant_id)
    return check(variant, spec, images=images, prepared=prepared(spec) if prepared else None)


def assert_trigger_reached(result):
    for r in result.runs:
        assert r.preconditions and all(v.startswith("ok") for v in r.preconditions.values()), r.preconditions


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
