"""Several commands in one master-CLI session must all answer (the regression d4781bd5e repaired).

Every worker command carries its own `@1` prefix: the pipelined `@1; expert-mode on; a; b` form
answers nothing on 3.0.4 (a948603e9, fixed in 3.0.5), which is not this bug. Before the sessions under
test, single commands must answer (precondition); after them a fresh `show proc` must list the master
and a worker.
"""
import re
import socket
import time

from harness.oracles.answers import record

INFO = r"^Name: HAProxy\s*$"
VERSION = r"^\d+\.\d+[\w.+-]*\s*$"         # `show version`: the bare version string on its own line
PROC_HEADER = r"^#<PID>"
SESS = r"^0x[0-9a-f]+: proto="
MASTER_ROW = r"^\d+\s+master\b"
WORKER_ROW = r"^\d+\s+worker\b"
PROMPT = re.compile(r"(?:^|\n)[\w\[\]]*> $")


def _connect(path: str, timeout: float) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def line_session(path: str, line: str, timeout: float) -> tuple[str, str]:
    """One connection, one `;`-separated line, half-close, read to EOF (text, error)."""
    chunks, error = [], ""
    try:
        s = _connect(path, timeout)
    except OSError as exc:
        return "", f"connect: {exc}"
    deadline = time.monotonic() + timeout
    try:
        s.sendall(line.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        s.close()
    return b"".join(chunks).decode(errors="replace"), error


def prompt_session(path: str, commands: list[str], per_command: float, pace: float):
    """`prompt`, then each command on its own line once the previous one's prompt is back (at most
    `per_command` s, at least `pace` s apart), then `quit`. Returns [(command, answer, error)]."""
    out = []
    try:
        s = _connect(path, per_command)
    except OSError as exc:
        return [(c, "", f"connect: {exc}") for c in commands]
    buf = b""

    def until_prompt(limit: float) -> tuple[str, str]:
        nonlocal buf
        buf = b""
        end = time.monotonic() + limit
        while not PROMPT.search(buf.decode(errors="replace")):
            left = end - time.monotonic()
            if left <= 0:
                return buf.decode(errors="replace"), f"no prompt within {limit:.0f}s"
            s.settimeout(left)
            try:
                data = s.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            if not data:
                return buf.decode(errors="replace"), "connection closed"
            buf += data
        return PROMPT.sub("", buf.decode(errors="replace")), ""

    try:
        s.sendall(b"prompt\n")
        _, err = until_prompt(per_command)
        if err:
            return [(c, "", f"after `prompt`: {err}") for c in commands]
        for c in commands:
            t = time.monotonic()
            s.sendall(c.encode() + b"\n")
            answer, err = until_prompt(per_command)
            out.append((c, answer, err))
            if err == "connection closed":
                out += [(rest, "", "connection closed earlier") for rest in commands[len(out):]]
                break
            time.sleep(max(0.0, pace - (time.monotonic() - t)))
        try:
            s.sendall(b"quit\n")
        except OSError:
            pass
    except OSError as exc:
        out += [(rest, "", f"{type(exc).__name__}: {exc}") for rest in commands[len(out):]]
    finally:
        s.close()
    return out


EXPECT = {"show proc": {PROC_HEADER: 1, MASTER_ROW: 1, WORKER_ROW: 1},
          "@1 show info": {INFO: 1}, "@1 show version": {VERSION: 1}, "show version": {VERSION: 1},
          "@1 show sess": {SESS: 1},
          # the pipelined form after a bare `@1` (used by the answers oracle's controls): with a mode
          # command, `@1; expert-mode on; show info; show version` answers nothing on 3.0.4 (measured;
          # 2.6.12 and 3.0.5 answer; a948603e9); without one it answered on every build tried
          "@1": {}, "expert-mode on": {}, "show info": {INFO: 1}}


def answers_of(command: str) -> dict:
    """What one command must answer; `@N cmd` as `@1 cmd` (a missing worker N answers nothing)."""
    return EXPECT[re.sub(r"^@\d+ ", "@1 ", command)]


def expected(commands: list[str]) -> dict:
    total: dict = {}
    for c in commands:
        for p, n in answers_of(c).items():
            total[p] = total.get(p, 0) + n
    return total


def run(ctx):
    p = ctx.params
    path = ctx.haproxy.master.path
    timeout = float(p["answer_timeout_s"])
    # precondition: the master CLI answers single commands on this build (else: not this bug)
    singles = {c: line_session(path, c, timeout) for c in ("show proc", "@1 show info")}
    ok = all(not missing_answers(text, EXPECT[c]) for c, (text, _) in singles.items())
    if not ctx.precondition("single commands answer", ok,
                            "; ".join(f"{c}: {len(t)} bytes{' ' + e if e else ''}" for c, (t, e) in singles.items())):
        return
    t0 = time.monotonic()
    if p["mode"] == "line":
        for i, cmds in enumerate(p["sessions"], 1):
            line = "; ".join(cmds)
            text, err = line_session(path, line, timeout)
            record(ctx, f"session {i}: {line}", text, expected(cmds), err)
    else:
        cmds = p["sessions"][0]
        for i, (c, answer, err) in enumerate(prompt_session(path, cmds, timeout, float(p["pace_s"])), 1):
            record(ctx, f"prompt #{i}: {c}", answer, answers_of(c), err)
    ctx.note("sessions_seconds", round(time.monotonic() - t0, 2))
    time.sleep(0.3)     # a master that dies of the session (BUG_ON, watchdog) has done so by now
    text, err = line_session(path, "show proc", timeout)
    record(ctx, "afterwards: show proc (master and worker alive)", text, EXPECT["show proc"], err)
    ctx.decide()


def missing_answers(text: str, expect: dict) -> list:
    return [pat for pat, n in expect.items() if len(re.findall(pat, text, re.M)) < n]
