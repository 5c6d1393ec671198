"""The stuck-streams oracle against a fake run (no HAProxy): its decision rule and its evidence."""
import time
from types import SimpleNamespace

import pytest

from harness.oracles.streams import StuckStreams
from harness.runtime_api import CLIError, parse_sess

LINE = ("{ptr}: proto=tcpv4 src=127.0.0.1:{port} fe={fe} be=be_leak srv=s1 ts=00 epoch=0 age=5s calls=3 rate=0 "
        "cpu=0 lat=0 rq[f=848000h,i=0,an=00h,ax=] rp[f=80048000h,i=0,an=00h,ax=] scf=[8,482h,fd=20,rex=5s,wex=] "
        "scb=[9,61015h,fd=21,rex=,wex=5s] exp={exp} rc=0 c_exp=5s")


def sess_text(n_no_exp: int, n_exp: int = 0, other_fe: int = 0) -> str:
    lines = []
    for i in range(n_no_exp + n_exp + other_fe):
        fe = "fe_leak" if i < n_no_exp + n_exp else "fe_other"
        exp = "" if i < n_no_exp or fe == "fe_other" else "2s"
        lines.append(LINE.format(ptr=hex(0x7f0000 + i * 0x100), port=40000 + i, fe=fe, exp=exp))
    return "\n".join(lines) + "\n"


class FakeStats:
    def __init__(self, text: str, conns: int):
        self.text, self.conns, self.fail = text, conns, False

    def show_sess(self):
        if self.fail:
            raise CLIError("/w/stats.sock: [Errno 111] Connection refused")
        return parse_sess(self.text)

    def show_info(self):
        if self.fail:
            raise CLIError("/w/stats.sock: [Errno 111] Connection refused")
        return {"CurrConns": str(self.conns)}


def fake_run(tmp_path, stats):
    t0 = time.monotonic()
    return SimpleNamespace(t0=t0, artifacts=tmp_path / "run0", marks={"decide": t0},
                           haproxy=SimpleNamespace(stats=stats))


def judge(tmp_path, stats, options, decide=True, samples=1):
    oracle = StuckStreams(**options)
    run = fake_run(tmp_path, stats)
    oracle.baseline(run)
    for _ in range(samples):
        oracle.sample(run)
    if decide:
        oracle.sample(run, decision=True)
    return oracle.judge(run)


OPTS = {"frontend": "fe_leak", "expected": 20}


def test_fires_when_streams_stay_without_expiry(tmp_path):
    f = judge(tmp_path, FakeStats(sess_text(20, other_fe=3), 23), OPTS)
    assert f.fired is True and f.inconclusive == ""
    assert f.details["streams"] == 20 and f.details["no_expiry"] == 20 and f.details["curr_conns"] == 23
    assert "20 stream(s) on fe_leak, 20 with no expiry" in f.summary
    assert len(f.details["sample"]) == 3
    assert {p.rsplit("/", 1)[1] for p in f.evidence} == {"streams.csv", "streams.png"}
    assert (tmp_path / "run0" / "streams.csv").read_text().startswith("t,streams,no_expiry,curr_conns")


def test_ratio_threshold(tmp_path):
    assert judge(tmp_path, FakeStats(sess_text(18, 2), 20), OPTS).fired is True      # 18 >= ceil(0.9 * 20)
    f = judge(tmp_path, FakeStats(sess_text(17, 3), 20), OPTS)
    assert f.fired is False and "fewer than 18" in f.inconclusive
    assert judge(tmp_path, FakeStats(sess_text(10, 10), 20), {**OPTS, "ratio": 0.5}).fired is True


def test_holds_when_no_stream_remains(tmp_path):
    f = judge(tmp_path, FakeStats(sess_text(0, other_fe=5), 5), OPTS)
    assert f.fired is False and f.inconclusive == ""


def test_streams_with_timers_are_inconclusive_not_held(tmp_path):
    f = judge(tmp_path, FakeStats(sess_text(0, 20), 20), OPTS)
    assert f.fired is False
    assert f.inconclusive


def test_dead_socket_is_inconclusive(tmp_path):
    stats = FakeStats("", 0)
    stats.fail = True
    f = judge(tmp_path, stats, OPTS)
    assert f.fired is False and "never answered" in f.inconclusive
    assert f.summary == "no sample"


def test_without_decision_uses_last_sample(tmp_path):
    f = judge(tmp_path, FakeStats(sess_text(20), 20), OPTS, decide=False, samples=2)
    assert f.fired is True


@pytest.mark.parametrize("decided,later,fired", [(20, 0, True), (0, 20, False)])
def test_decision_sample_wins_over_later_ones(tmp_path, decided, later, fired):
    stats = FakeStats(sess_text(decided), decided)
    oracle = StuckStreams(**OPTS)
    run = fake_run(tmp_path, stats)
    oracle.baseline(run)
    oracle.sample(run, decision=True)
    stats.text = sess_text(later)
    oracle.sample(run)
    assert oracle.judge(run).fired is fired
    assert oracle.max_streams == max(decided, later)
