"""The worker's fds and RSS (psutil), per-netns socket counters and per-container TCP memory."""
import os
import re
import subprocess

import psutil

from ..series import Series
from .base import Finding, Oracle


def socket_fds(pid: int) -> int:
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
            except OSError:
                pass
    except OSError:
        return -1
    return n


def netns_sockstat(pid: int) -> dict:
    """TCP inuse/tw of the process's namespace (mem/orphan/alloc there are kernel-global: not used)."""
    try:
        for line in open(f"/proc/{pid}/net/sockstat"):
            if line.startswith("TCP:"):
                f = line.split()[1:]
                d = dict(zip(f[::2], map(int, f[1::2])))
                return {"inuse": d.get("inuse"), "tw": d.get("tw"), "global_mem_pages": d.get("mem")}
    except OSError:
        pass
    return {}


SKMEM_RE = re.compile(r"skmem:\(r(\d+),rb\d+,t\d+,tb\d+,f(\d+),w(\d+)")


def netns_socket_bytes(run) -> int | None:
    """Kernel memory held by the namespace's TCP sockets: the sum of `ss -tmna` skmem r+f+w there (CLOSE sockets included)
    (per container, unlike sockstat's kernel-global `mem`)."""
    try:
        out = run.ns.command(["ss", "-tmnaH"], timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sum(int(r) + int(f) + int(w) for r, f, w in SKMEM_RE.findall(out))


class ProcessResources(Oracle):
    """Samples worker socket fds, RSS, threads, netns TCP counters and socket memory.

    options: max_socket_fd_growth (fires above it; omit to record only).
    """
    name = "resources"

    def baseline(self, run) -> None:
        self.series = Series("resources", ["socket_fds", "rss_kb", "threads", "tcp_inuse", "tcp_tw",
                                           "netns_socket_bytes", "global_tcp_mem_pages"], t0=run.t0)
        self.base_fds = None
        self.sample(run)
        self.base_fds = self.series.last("socket_fds")

    def sample(self, run, decision: bool = False) -> None:
        pids = run.haproxy.worker_pids()
        if not pids:
            return
        pid = pids[0]
        try:
            p = psutil.Process(pid)
            rss, threads = p.memory_info().rss // 1024, p.num_threads()
        except psutil.Error:
            return
        ss = netns_sockstat(pid)
        self.series.add(socket_fds=socket_fds(pid), rss_kb=rss, threads=threads, tcp_inuse=ss.get("inuse"),
                        tcp_tw=ss.get("tw"), netns_socket_bytes=netns_socket_bytes(run),
                        global_tcp_mem_pages=ss.get("global_mem_pages"))

    def judge(self, run) -> Finding:
        evidence = self.series.save(run.artifacts, run.marks)
        last = self.series.last("socket_fds")
        growth = (last - self.base_fds) if (last is not None and self.base_fds is not None) else None
        details = {"socket_fds_baseline": self.base_fds, "socket_fds_last": last, "growth": growth,
                   "rss_kb_last": self.series.last("rss_kb"),
                   "netns_socket_bytes_last": self.series.last("netns_socket_bytes")}
        limit = self.options.get("max_socket_fd_growth")
        fired = limit is not None and growth is not None and growth > int(limit)
        return Finding(self.name, fired, f"socket fds {self.base_fds} -> {last} (growth {growth})",
                       details=details, evidence=evidence)
