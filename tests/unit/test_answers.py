"""The answers oracle against a fake run: expected vs recorded answers of a conversation."""
from types import SimpleNamespace

from harness.oracles import REGISTRY
from harness.oracles.answers import Answers, missing, record

INFO = "Name: HAProxy\nVersion: 3.0.11\nRelease_date: 2025/01/01\nPid: 8\n\n"
VERSION = "3.0.11-9e587df\n\n"
PROC = "#<PID>          <type>          <reloads>        <uptime>        <version>\n1               master  0 ...\n"
EXPECT = {r"^Name: HAProxy$": 2, r"^\d+\.\d+[\w.+-]*$": 2, r"^#<PID>": 1}


def fake_run(tmp_path):
    return SimpleNamespace(notes={}, artifacts=tmp_path / "run1")


def test_registered_under_its_name():
    assert REGISTRY["answers"] is Answers


def test_holds_when_every_answer_arrived(tmp_path):
    run = fake_run(tmp_path)
    record(run, "line", INFO + VERSION + INFO + PROC + VERSION, EXPECT)
    f = Answers().judge(run)
    assert not f.fired and not f.inconclusive, f
    assert "all expected answers in 1 exchange" in f.summary
    assert (tmp_path / "run1" / "answers.txt").read_text().startswith("=== line")


def test_fires_when_one_answer_is_missing(tmp_path):
    """The 76fa71f7a picture: the first answer, then the master gives up on the worker."""
    run = fake_run(tmp_path)
    record(run, "line", INFO + "Can't connect to the target CLI!\n", EXPECT)
    f = Answers().judge(run)
    assert f.fired
    m = f.details["missing"]["line"]
    assert m == {r"^Name: HAProxy$": "1/2", r"^\d+\.\d+[\w.+-]*$": "0/2", r"^#<PID>": "0/1"}
    assert "1/1 exchange(s) lack answers" in f.summary


def test_counts_are_per_exchange(tmp_path):
    run = fake_run(tmp_path)
    record(run, "a", INFO, {r"^Name: HAProxy$": 1})
    record(run, "b", "", {r"^Name: HAProxy$": 1}, error="timed out")
    f = Answers().judge(run)
    assert f.fired and list(f.details["missing"]) == ["b"]
    assert f.details["errors"] == {"b": "timed out"}


def test_a_version_field_is_not_a_version_line():
    """`Version: 3.0.11` in `show info` must not count as a `show version` answer."""
    entry = {"exchange": "x", "expect": {r"^\d+\.\d+[\w.+-]*$": 1}, "text": INFO, "error": ""}
    assert missing(entry) == {r"^\d+\.\d+[\w.+-]*$": (0, 1)}


def test_nothing_recorded_is_inconclusive_never_held(tmp_path):
    f = Answers().judge(fake_run(tmp_path))
    assert not f.fired and f.inconclusive


def test_text_kept_in_notes_is_bounded(tmp_path):
    run = fake_run(tmp_path)
    e = record(run, "big", "x" * 100000 + "\nName: HAProxy\n", {r"^Name: HAProxy$": 1})
    assert len(e["text"]) <= 20000 and not missing(e)
