import os
import socket
import threading

import pytest

from harness.runtime_api import CLIError, MasterCLI, RuntimeAPI, parse_info, parse_proc, parse_sess

INFO_30 = """\
Name: HAProxy
Version: 3.0.11-9e587df
Release_date: 2025/06/02
Nbthread: 2
Nbproc: 1
Process_num: 1
Pid: 10
Uptime: 0d 0h00m05s
Uptime_sec: 5
Memmax_MB: 0
PoolAlloc_MB: 0
Ulimit-n: 4031
Maxsock: 4031
Maxconn: 2000
CurrConns: 20
CumConns: 21
node: 0a1b2c3d
description: 
Stopping: 0

"""

SESS_26 = """\
0x55d6b8a3c0a0: proto=tcpv4 src=127.0.0.1:40000 fe=fe_main be=be_main srv=s1 ts=00 epoch=0x1 age=10s calls=3 rate=0 cpu=0 lat=0 rq[f=848000h,i=0,an=00h,rx=,wx=,ax=] rp[f=80048000h,i=0,an=00h,rx=,wx=,ax=] s0=[8,200008h,fd=20,ex=] s1=[8,118h,fd=21,ex=] exp=23h59m rc=0 c_exp=
0x55d6b8a3d1b0: proto=tcpv4 src=127.0.0.1:40002 fe=fe_main be=be_main srv=s1 ts=00 epoch=0x1 age=10s calls=3 rate=0 cpu=0 lat=0 rq[f=848000h,i=0,an=00h,rx=,wx=,ax=] rp[f=80048000h,i=0,an=00h,rx=,wx=,ax=] s0=[8,200008h,fd=22,ex=] s1=[8,118h,fd=23,ex=] exp= rc=0 c_exp=
0x55d6b8a3e2c0: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0x1 age=0s calls=2 rate=2 cpu=0 lat=0 rq[f=c4c223h,i=0,an=00h,rx=10s,wx=,ax=] rp[f=80008002h,i=0,an=00h,rx=,wx=,ax=] s0=[8,280008h,fd=24,ex=] s1=[8,204018h,fd=-1,ex=] exp=10s rc=0 c_exp=
"""

SESS_30 = """\
0x7f1e2c02a000: proto=tcpv4 src=127.0.0.1:53262 fe=fe_leak be=be_leak srv=s1 ts=00 epoch=0 age=5s calls=3 rate=0 cpu=0 lat=0 rq[f=848000h,i=0,an=00h,ax=] rp[f=80048000h,i=0,an=00h,ax=] scf=[8,482h,fd=20,rex=,wex=] scb=[9,61015h,fd=21,rex=,wex=] exp= rc=0 c_exp=
0x7f1e2c02b000: proto=tcpv4 src=127.0.0.1:53264 fe=fe_leak be=be_leak srv=s1 ts=00 epoch=0 age=5s calls=3 rate=0 cpu=0 lat=0 rq[f=848000h,i=0,an=00h,ax=] rp[f=80048000h,i=0,an=00h,ax=] scf=[8,482h,fd=22,rex=4s,wex=] scb=[9,61015h,fd=23,rex=1s,wex=2s] exp=1s rc=0 c_exp=2s
0x7f1e2c02c000: proto=tcpv4 src=127.0.0.1:53266 fe=fe_leak be=be_leak srv=s1 ts=00 epoch=0 age=5s calls=3 rate=0 cpu=0 lat=0 rq[f=848000h,i=0,an=00h,ax=] rp[f=80048000h,i=0,an=00h,ax=] scf=[8,482h,fd=24,rex=5s,wex=5s] scb=[9,61015h,fd=25,rex=5s,wex=5s] exp= rc=0 c_exp=5s
0x7f1e2c03d000: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0 age=0s calls=2 rate=2 cpu=0 lat=0 rq[f=c4c223h,i=0,an=00h,ax=] rp[f=80008002h,i=0,an=00h,ax=] scf=[8,1c0080h,fd=26,rex=1m,wex=] scb=[8,1h,fd=-1,rex=,wex=] exp=1m rc=0 c_exp=
"""

PROC_30 = """\
#<PID>          <type>          <reloads>       <uptime>        <version>      
8               master          0 [failed: 0]   0d00h00m01s     3.0.11-9e587df 
# workers
10              worker          0               0d00h00m01s     3.0.11-9e587df 
# programs

"""

PROC_26 = """\
#<PID>          <type>          <reloads>       <uptime>        <version>
1               master          2               0d00h01m08s     2.6.12-f588462
# workers
31              worker          0               0d00h00m02s     2.6.12-f588462
# old workers
17              worker          1               0d00h00m30s     2.6.12-f588462
# programs

"""

# ---- parsers ---------------------------------------------------------------------------------------

def test_parse_info():
    info = parse_info(INFO_30)
    assert info["Pid"] == "10"
    assert info["CurrConns"] == "20"
    assert info["Version"] == "3.0.11-9e587df"
    assert info["Uptime"] == "0d 0h00m05s"  # values keep their own colons/spaces intact
    assert info["description"] == ""
    assert "" not in info


def test_parse_info_value_with_colon():
    assert parse_info("node: host:1\n")["node"] == "host:1"


def test_parse_sess_26_exp_and_ex_fields():
    streams = parse_sess(SESS_26)
    assert [s.ptr for s in streams] == ["0x55d6b8a3c0a0", "0x55d6b8a3d1b0", "0x55d6b8a3e2c0"]
    first, second, cli = streams
    assert first.frontend == "fe_main" and first.backend == "be_main"
    assert first.exp == "23h59m" and not first.no_expiry   # s0/s1 `ex=` and `c_exp=` do not count
    assert second.exp == "" and second.no_expiry
    assert cli.frontend == "GLOBAL" and cli.exp == "10s"
    assert first.age == "10s"
    assert first.raw == SESS_26.splitlines()[0]


def test_parse_sess_30_rex_wex_c_exp_do_not_confuse_exp():
    streams = parse_sess(SESS_30)
    assert len(streams) == 4
    a, b, c, cli = streams
    assert a.frontend == "fe_leak" and a.backend == "be_leak"
    assert a.exp == "" and a.no_expiry
    assert b.exp == "1s" and not b.no_expiry
    assert c.exp == "" and c.no_expiry           # rex=5s, wex=5s and c_exp=5s are other timers
    assert cli.exp == "1m"
    assert sum(s.no_expiry for s in streams if s.frontend == "fe_leak") == 2


def test_parse_sess_ignores_non_stream_lines():
    text = "Unknown command.\n\n" + SESS_30.splitlines()[0] + "\n  0x1234: not at line start\n"
    assert len(parse_sess(text)) == 1
    assert parse_sess("") == []


def test_parse_proc_30():
    procs = parse_proc(PROC_30)
    assert [(p.pid, p.type) for p in procs] == [(8, "master"), (10, "worker")]
    master, worker = procs
    assert master.reloads == 0 and worker.reloads == 0
    assert master.uptime == "0d00h00m01s" and worker.uptime == "0d00h00m01s"
    assert master.version == worker.version == "3.0.11-9e587df"


def test_parse_proc_26_with_old_workers():
    procs = parse_proc(PROC_26)
    assert [(p.pid, p.type, p.reloads) for p in procs] == [(1, "master", 2), (31, "worker", 0),
                                                           (17, "worker", 1)]
    assert procs[1].uptime == "0d00h00m02s"
    assert procs[1].version == "2.6.12-f588462"


def test_parse_proc_nothing():
    assert parse_proc("Unknown command.\n") == []


# ---- a fake CLI socket -----------------------------------------------------------------------------

class FakeCLI:
    """A unix-socket server that reads until EOF (the client's shutdown), answers, then closes."""

    def __init__(self, path: str, answer=lambda request: "ok\n"):
        self.path = path
        self.answer = answer
        self.received: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.sock.settimeout(5)
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                chunks = []
                while True:
                    data = conn.recv(4096)
                    if not data:
                        break
                    chunks.append(data)
                request = b"".join(chunks).decode()
                self.received.append(request)
                conn.sendall(self.answer(request).encode())

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)


@pytest.fixture
def sock_dir():
    # AF_UNIX paths are limited to ~107 bytes: pytest's tmp_path can be longer.
    import tempfile
    with tempfile.TemporaryDirectory(prefix="hrt-") as d:
        yield d


@pytest.fixture
def fake_cli(sock_dir):
    servers = []

    def start(answer=lambda request: "ok\n"):
        srv = FakeCLI(os.path.join(sock_dir, f"cli{len(servers)}.sock"), answer)
        servers.append(srv)
        return srv
    yield start
    for s in servers:
        s.close()


def test_master_cli_prefixes_each_worker_command(fake_cli):
    srv = fake_cli(lambda req: "Name: HAProxy\nPid: 10\n")
    out = MasterCLI(srv.path, timeout=2).worker("show info", "show sess")
    assert srv.received == ["@1 show info; @1 show sess\n"]
    assert out == "Name: HAProxy\nPid: 10\n"


def test_master_cli_show_proc(fake_cli):
    srv = fake_cli(lambda req: PROC_30)
    procs = MasterCLI(srv.path, timeout=2).show_proc()
    assert srv.received == ["show proc\n"]
    assert [p.pid for p in procs if p.type == "worker"] == [10]


def test_master_cli_wait_ready(fake_cli):
    def answer(req):
        return PROC_30 if req == "show proc\n" else INFO_30
    srv = fake_cli(answer)
    procs = MasterCLI(srv.path, timeout=2).wait_ready(timeout=3)
    assert [p.pid for p in procs] == [10]
    assert srv.received == ["show proc\n", "@1 show info\n"]


def test_master_cli_wait_ready_reports_dead_process(sock_dir):
    cli = MasterCLI(os.path.join(sock_dir, "none.sock"), timeout=0.5)
    with pytest.raises(CLIError, match="exited before it was ready"):
        cli.wait_ready(timeout=3, alive=lambda: False)


def test_master_cli_wait_ready_times_out(sock_dir):
    cli = MasterCLI(os.path.join(sock_dir, "none.sock"), timeout=0.2)
    with pytest.raises(CLIError, match="not ready after 0.3s"):
        cli.wait_ready(timeout=0.3)


def test_runtime_api_joins_commands(fake_cli):
    srv = fake_cli(lambda req: "")
    api = RuntimeAPI(srv.path, timeout=2)
    api.cmd("show info", "show sess")
    api.expert("debug dev panic")
    assert srv.received == ["show info; show sess\n", "expert-mode on; debug dev panic\n"]


def test_runtime_api_parsed_helpers(fake_cli):
    answers = {"show info\n": INFO_30, "show sess\n": SESS_30}
    srv = fake_cli(lambda req: answers[req])
    api = RuntimeAPI(srv.path, timeout=2)
    assert api.show_info()["CurrConns"] == "20"
    assert sum(s.no_expiry for s in api.show_sess()) == 2


def test_long_answer_is_read_whole(fake_cli):
    big = "".join(SESS_30.splitlines(keepends=True)[:1]) * 2000   # ~700 kB, many recv() calls
    srv = fake_cli(lambda req: big)
    out = RuntimeAPI(srv.path, timeout=5).cmd("show sess")
    assert out == big
    assert len(parse_sess(out)) == 2000


def test_missing_socket_is_a_cli_error(sock_dir):
    path = os.path.join(sock_dir, "absent.sock")
    with pytest.raises(CLIError) as exc:
        RuntimeAPI(path, timeout=1).cmd("show info")
    assert path in str(exc.value)
