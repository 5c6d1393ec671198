"""One fault never costs a run its results: a scenario that raises or blocks is that variant's `error`
outcome while the others go on; concurrent checks never share evidence; an interrupt at any moment
leaves no container, work dir or process behind and keeps the runs already finished."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import psutil
import pytest
from junitparser import Error, JUnitXml

from harness.result import CheckResult
from harness.verdict import Verdict

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]
HRT = [sys.executable, "-m", "harness.cli"]
CANARY = (ROOT / "cases" / "canary-crash" / "case.toml").read_text()


@pytest.fixture
def broken_cases(tmp_path):
    """HRT_CASES_DIR with canary-crash and two broken cases: one whose scenario raises, one that blocks."""
    cases, configs = tmp_path / "cases", tmp_path / "configs"
    shutil.copytree(ROOT / "haproxy_configs", configs)
    shutil.copytree(ROOT / "cases" / "canary-crash", cases / "canary-crash")
    for name, body, timeout in (("raises", "def run(ctx):\n    raise ZeroDivisionError('boom in the scenario')\n", 20),
                                ("blocks", "import time\n\n\ndef run(ctx):\n    time.sleep(3600)\n", 4)):
        d = cases / name
        d.mkdir()
        (d / "scenario.py").write_text(body)
        (d / "case.toml").write_text(f'title = "{name}"\ntemplate = "canary.cfg.j2"\ntimeout = {timeout}\n'
                                     'oracles = [{ name = "crash" }]\nexpect = "held"\n'
                                     'params = { nbthread = 1, fe_port = 8080, srv_port = 9000, '
                                     'timeout_client = "5s", timeout_server = "5s" }\n')
    return {"HRT_CASES_DIR": str(cases), "HRT_CONFIGS_DIR": str(configs), "HRT_RESULTS": str(tmp_path / "results")}


def hrt(*args, env=None, timeout=600):
    return subprocess.run([*HRT, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def leftovers(pid: int) -> list:
    """Containers, HAProxy work dirs and processes an hrt process `pid` left behind."""
    containers = docker.from_env().containers.list(all=True, filters={"label": f"hrt.owner={pid}"})
    dirs = list(Path(tempfile.gettempdir()).glob(f"hrt-{pid}-*"))
    procs = [p for p in psutil.process_iter(["pid", "ppid"]) if p.info["ppid"] == pid]
    return containers + dirs + procs


def test_a_raising_and_a_blocked_scenario_are_errors_and_the_run_goes_on(broken_cases, prepared):
    prepared("3.0.11")
    junit = Path(broken_cases["HRT_RESULTS"]) / "junit.xml"
    started = time.monotonic()
    p = hrt("test", "3.0.11", "--case", "raises", "--case", "blocks", "--case", "canary-crash/no-crash",
            "--junit", str(junit), env=broken_cases)
    assert p.returncode == 3, p.stdout + p.stderr          # a check errored: its own exit status
    assert time.monotonic() - started < 120                 # the blocked scenario was abandoned at its bound
    tcs = {tc.name: tc for suite in JUnitXml.fromfile(str(junit)) for tc in suite}
    (raised,), (blocked,) = tcs["raises[3.0.11]"].result, tcs["blocks[3.0.11]"].result
    assert isinstance(raised, Error) and "ZeroDivisionError" in raised.message
    assert isinstance(blocked, Error) and "timeout" in blocked.message
    assert tcs["canary-crash/no-crash[3.0.11]"].result == []   # measured after the faults, and passed
    assert "canary-crash/no-crash" in p.stdout and "error" in p.stdout   # the table was printed
    results = Path(broken_cases["HRT_RESULTS"])
    assert (results / "test-3.0.11" / "report.html").is_file()
    (trace,) = results.glob("raises/3.0.11-default/*run1*/traceback.txt")
    assert "ZeroDivisionError: boom in the scenario" in trace.read_text()
    blocked = CheckResult.load(results / "blocks" / "3.0.11-default" / "result.json")
    assert blocked.verdict == Verdict.ERROR and "abandoned" in blocked.reason


def test_concurrent_checks_of_one_cell_keep_separate_evidence(prepared):
    prepared("3.0.11")
    cmd = [*HRT, "check", "canary-crash/sigsegv", "--haproxy", "3.0.11", "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert [o["verdict"] for o in outs] == ["reproduced", "reproduced"]
    runs = [next(Path(e) for e in o["evidence"] if Path(e).is_dir()) for o in outs]
    assert runs[0] != runs[1]
    assert all(len(list(r.glob("core*"))) == 1 for r in runs)   # each run its own core, none shared


def test_an_interrupted_multi_run_check_keeps_its_finished_runs(prepared, tmp_path):
    prepared("3.0.11")
    proc = subprocess.Popen([*HRT, "check", "canary-stuck-streams/no-timeout", "--haproxy", "3.0.11", "--runs", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HRT_RESULTS": str(tmp_path)})
    for line in proc.stderr:
        if "run 2/3" in line:
            break
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    r = CheckResult.load(tmp_path / "canary-stuck-streams__no-timeout" / "3.0.11-default" / "result.json")
    assert r.interrupted is True and len(r.runs) == 1 and r.verdict == Verdict.REPRODUCED, r.reason
    assert not leftovers(proc.pid)


def test_twenty_interrupts_at_random_moments_leave_nothing(prepared):
    prepared("3.0.11")
    rng = random.Random(2026)
    for i in range(20):
        proc = subprocess.Popen([*HRT, "check", "canary-stuck-streams/no-timeout", "--haproxy", "3.0.11"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 9.0))
        proc.send_signal(signal.SIGINT if i % 2 else signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        # 130: interrupted and cleaned up; 0: finished first; -2/-15: killed before hrt installed its handlers
        assert proc.returncode in (0, 130, -signal.SIGINT, -signal.SIGTERM), err[-2000:]
        assert not leftovers(proc.pid), (i, leftovers(proc.pid), err[-2000:])
