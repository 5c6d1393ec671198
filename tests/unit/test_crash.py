import types

import pytest

from harness.oracles import crash as crash_mod
from harness.oracles.crash import ASAN_RE, FATAL_RE, PANIC_RE, WORKER_EXIT_RE, _signame, frames, signature

BT_EPOLL = """\
#0 0x00007f in epoll_wait () from /lib/x86_64-linux-gnu/libc.so.6
#1 0x55 in _do_poll (p=<optimized out>, exp=<optimized out>, wake=<optimized out>) at src/ev_epoll.c:235
#2 0x000055d6b8a3c0a0 in run_poll_loop () at src/haproxy.c:2900
#3 0x000055d6b8a3c0b0 in run_thread_poll_loop (data=<optimized out>) at src/haproxy.c:3102
#4 0x000055d6b8a3c0c0 in main (argc=<optimized out>, argv=<optimized out>) at src/haproxy.c:3803
"""

BT_SEGV = """\
#0  0x00007f1e2c0d2e3c in __pthread_kill_implementation () from /lib/x86_64-linux-gnu/libc.so.6
#1  0x00007f1e2c084fb2 in raise () from /lib/x86_64-linux-gnu/libc.so.6
#2  0x00007f1e2c06f472 in abort () from /lib/x86_64-linux-gnu/libc.so.6
#3  0x000055d6b8a11111 in ha_panic () at src/debug.c:450
#4  0x000055d6b8a22222 in task_queue (task=0x55d6b8f00000) at include/haproxy/task.h:285
#5  0x000055d6b8a22222 in task_queue (task=0x55d6b8f00000) at include/haproxy/task.h:285
#6  0x000055d6b8a33333 in process_stream (t=0x55d6b8f00000, context=0x55d6b8f10000, state=<optimized out>) at src/stream.c:2541
#7  0x000055d6b8a44444 in run_tasks_from_lists (budgets=budgets@entry=0x7ffd0c0e5f00) at src/task.c:634
#8  0x00007f1e2c1a0000 in luaD_call () from /lib/x86_64-linux-gnu/liblua5.4.so.0
#9  0x00007f1e2c1a1111 in ?? () from /lib/x86_64-linux-gnu/liblua5.4.so.0
#10 0x000055d6b8a55555 in process_runnable_tasks () at src/task.c:876
#11 0x000055d6b8a66666 in run_poll_loop () at src/haproxy.c:2894
#12 0x00007f1e2c0d1044 in start_thread () from /lib/x86_64-linux-gnu/libc.so.6
"""


def test_frames_extracts_function_and_library():
    fs = frames(BT_EPOLL)
    assert fs[0] == ("epoll_wait", "/lib/x86_64-linux-gnu/libc.so.6")
    assert fs[1] == ("_do_poll", "")
    assert [f for f, _ in fs] == ["epoll_wait", "_do_poll", "run_poll_loop", "run_thread_poll_loop", "main"]


def test_signature_drops_libc_frames():
    assert signature(BT_EPOLL) == "_do_poll < run_poll_loop < run_thread_poll_loop < main"
    assert signature(BT_EPOLL, depth=2) == "_do_poll < run_poll_loop"


def test_signature_drops_abort_helpers_merges_duplicates_keeps_liblua():
    assert frames(BT_SEGV)[9] == ("??", "/lib/x86_64-linux-gnu/liblua5.4.so.0")
    sig = signature(BT_SEGV, depth=6)
    assert sig == "task_queue < process_stream < run_tasks_from_lists < luaD_call < process_runnable_tasks " \
                  "< run_poll_loop"
    assert signature(BT_SEGV) == "task_queue < process_stream < run_tasks_from_lists < luaD_call"


def test_signature_same_crash_same_identity_across_builds():
    """Addresses and arguments differ between builds; the signature does not."""
    other = BT_SEGV.replace("0x000055d6b8a", "0x0000561234a").replace("0x55d6b8f00000", "0x5612aa000000")
    assert signature(other) == signature(BT_SEGV)


def test_signature_of_nothing():
    assert signature("") == ""
    assert signature("No stack.\n") == ""


def test_worker_exit_26_form():
    line = "[ALERT]    (1) : Current worker #1 (8) exited with code 139 (Segmentation fault)"
    m = WORKER_EXIT_RE.search(line)
    assert m.groups() == ("8", "139", "Segmentation fault")


def test_worker_exit_30_form():
    line = "[ALERT]    (7) : Current worker (9) exited with code 134 (Aborted)"
    m = WORKER_EXIT_RE.search(line)
    assert m.groups() == ("9", "134", "Aborted")


def test_worker_exit_findall_and_plain_exit():
    log = ("[NOTICE]   (1) : haproxy version is 3.0.11-9e587df\n"
           "[ALERT]    (1) : Current worker (9) exited with code 134 (Aborted)\n"
           "[WARNING]  (1) : Former worker (12) exited with code 0 (Exit)\n"
           "[ALERT]    (1) : Current worker (13) exited with code 1\n")
    assert WORKER_EXIT_RE.findall(log) == [("9", "134", "Aborted"), ("12", "0", "Exit"), ("13", "1", "")]


def test_signal_names():
    assert _signame(139) == "SIGSEGV"
    assert _signame(134) == "SIGABRT"
    assert _signame(137) == "SIGKILL"
    assert _signame(1) == ""


def test_fatal_re():
    line = 'FATAL: bug condition "task->expire == 0" matched at src/task.c:285'
    m = FATAL_RE.search("[NOTICE] ...\n" + line + "\n")
    assert m.group(1) == "task->expire == 0"
    assert m.group(2) == "src/task.c:285"
    assert m.group(0) == line


def test_fatal_re_with_trailing_text():
    m = FATAL_RE.search('FATAL: bug condition "!LIST_INLIST(&h->list)" matched at src/mux_h2.c:1234 [h2 stream]')
    assert m.groups() == ("!LIST_INLIST(&h->list)", "src/mux_h2.c:1234")


def test_asan_re():
    m = ASAN_RE.search("==8==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000001234 at pc 0x5")
    assert m.group(1) == "heap-use-after-free"
    assert ASAN_RE.search("==8==ERROR: AddressSanitizer: SEGV on unknown address").group(1) == "SEGV"


def test_panic_re_matches_haproxys_panic_line():
    """ha_panic() (src/debug.c) writes "Thread %u is about to kill the process.\n" -- with a final dot."""
    log = "[NOTICE]   (1) : haproxy version is 3.0.11-9e587df\nThread 2 is about to kill the process.\n" \
          "*>Thread 2 : id=0x7f1e2c0 act=1 glob=0 wq=1 rq=0 tl=1 tlsz=0 rqsz=1\n"
    m = PANIC_RE.search(log)
    assert m and m.group(0) == "Thread 2 is about to kill the process."
    assert not PANIC_RE.search("all good\n")


# --- a named bug's signature (fatal + stack options): sticktable-race-2.9's decision rule ------------
BT_REQUEUE = """== crashing thread ==
#0  0x000055a7543cb578 in __task_queue (task=task@entry=0x55a77a72a700, wq=0x55a75475ee18 <ha_tgroup_ctx+24>) at src/task.c:285
#1  0x000055a754314a8e in _task_queue (caller=<optimized out>, task=0x55a77a72a700) at include/haproxy/task.h:318
#2  stktable_requeue_exp (t=t@entry=0x55a77a5d24e0, ts=ts@entry=0x7fb4940ffd30) at src/stick_table.c:613
#3  0x000055a754314bd8 in stktable_touch_with_exp (t=0x55a77a5d24e0, ts=ts@entry=0x7fb4940ffd30, local=1) at src/stick_table.c:481
== all threads ==
"""
BT_OTHER = BT_REQUEUE.replace("stktable_requeue_exp", "debug_parse_cli_bug").replace("__task_queue", "ha_crash_now")
OURS = 'FATAL: bug condition "task->expire == 0" matched at src/task.c:285\n'
SIGILL = "[ALERT]    (7) : Current worker (9) exited with code 132 (Illegal instruction)\n"
OPTS = dict(signals=["SIGILL"], fatal=r'bug condition "task->expire == 0" matched at src/task\.c:',
            stack=["__task_queue", "stktable_requeue_exp"])


def judge(tmp_path, monkeypatch, text, bt=None, gone=False, **opts):
    cores = []
    if bt is not None:
        (tmp_path / "core").write_bytes(b"\0" * 1000)
        cores = [tmp_path / "core"]
        monkeypatch.setattr(crash_mod, "backtrace", lambda run, core: bt)
    run = types.SimpleNamespace(haproxy_log=text, log_before_stop=text, exit_code=1 if gone else None, cores=cores,
                                artifacts=tmp_path, gone_before_stop=gone)
    return crash_mod.Crash(**opts).judge(run)


def test_signature_all_three_fire(tmp_path, monkeypatch):
    f = judge(tmp_path, monkeypatch, OURS + SIGILL, BT_REQUEUE, **OPTS, keep_core=False)
    assert f.fired and not f.inconclusive
    assert "SIGILL" in f.summary and "task->expire == 0" in f.summary
    assert f.details["signature_missing"] == []
    assert not (tmp_path / "core").exists() and "1000 bytes" in f.details["core_deleted"]
    assert f.details["cores"] == [] and (tmp_path / "backtrace.txt").exists()


@pytest.mark.parametrize("log,bt,missing", [
    ('FATAL: bug condition "one > zero" matched at src/debug.c:665\n' + SIGILL, BT_OTHER,
     "FATAL"),                                                              # `debug dev bug`: a foreign BUG_ON
    (OURS + SIGILL, None, "a core backtrace"),                              # no core: not proven
    (OURS + SIGILL, BT_OTHER, "frames __task_queue, stktable_requeue_exp"),  # another path
    (OURS + SIGILL.replace("132 (Illegal instruction)", "134 (Aborted)"), BT_REQUEUE, "signal SIGILL"),
    ("Thread 3 is about to kill the process.\n" + SIGILL.replace("132 (Illegal instruction)", "134 (Aborted)"),
     BT_OTHER, "signal SIGILL"),                                            # watchdog panic
    (SIGILL.replace("132 (Illegal instruction)", "139 (Segmentation fault)"), BT_OTHER, "FATAL"),
])
def test_signature_partial_is_other_failure_never_held(tmp_path, monkeypatch, log, bt, missing):
    f = judge(tmp_path, monkeypatch, log, bt, **OPTS)
    assert not f.fired
    assert f.inconclusive.startswith("other failure (not this bug's signature: no ") and missing in f.inconclusive


def test_signature_no_death_is_clean(tmp_path, monkeypatch):
    f = judge(tmp_path, monkeypatch, "[NOTICE] (7) : haproxy version is 3.0.11\n", None, **OPTS)
    assert not f.fired and not f.inconclusive


def test_without_signature_options_any_fatal_still_fires(tmp_path, monkeypatch):
    """The other cases' behaviour is unchanged: a BUG_ON or an accepted signal fires alone."""
    f = judge(tmp_path, monkeypatch, 'FATAL: bug condition "one > zero" matched at src/debug.c:665\n', None,
              signals=["SIGSEGV"])
    assert f.fired


SPIN = "[ALERT]    (8) : A bogus APPCTX [0x7f00] is spinning at 100000 calls per second and refuses to die, aborting now!\n"
ABORT = SIGILL.replace("132 (Illegal instruction)", "134 (Aborted)")


@pytest.mark.parametrize("log,gone,why", [
    (SIGILL.replace("132 (Illegal instruction)", "134 (Aborted)"), True, "not an accepted death: signals SIGSEGV"),
    ("[ALERT]    (7) : Current worker (9) exited with code 1 (Exit)\n", True, "not a crash"),   # error exit
    ("[NOTICE] (7) : haproxy version is 3.0.11\n", True, "not a crash"),     # gone, no worker line at all
])
def test_a_death_that_is_not_the_accepted_one_is_never_held(tmp_path, monkeypatch, log, gone, why):
    """Another signal, an error exit, HAProxy gone early: the exposure ended short, so no verdict."""
    f = judge(tmp_path, monkeypatch, log, gone=gone, signals=["SIGSEGV"])
    assert not f.fired and f.inconclusive.startswith(f"other failure ({why})")


def test_log_signature_needs_the_line(tmp_path, monkeypatch):
    """`log`: the watchdog's spin alert must accompany the abort; an abort without it is another failure."""
    opts = dict(signals=["SIGILL", "SIGABRT"], log=r"A bogus APPCTX \[0x[0-9a-f]+\] is spinning")
    assert judge(tmp_path, monkeypatch, SPIN + ABORT, gone=True, **opts).fired
    f = judge(tmp_path, monkeypatch, ABORT, gone=True, **opts)
    assert not f.fired and "no output line /A bogus APPCTX" in f.inconclusive
