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
