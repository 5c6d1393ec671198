"""The worker's fds and RSS (psutil), per-netns socket counters and per-container TCP memory."""
import os

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


CGROUP_V1 = "/sys/fs/cgroup/memory/docker/{id}/memory.kmem.tcp.{name}"
CGROUP_V2 = ("/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.stat", "/sys/fs/cgroup/docker/{id}/memory.stat")


def enable_tcp_accounting(container_id: str) -> None:
    """cgroup v1 charges TCP buffers to a memcg only once its tcp limit was set: set it to the maximum.
    (`ss` cannot help: the stuck sockets are in CLOSE state, outside the tables inet_diag walks.)"""
    path = CGROUP_V1.format(id=container_id, name="limit_in_bytes")
    try:
        with open(path, "w") as f:
            f.write(str(2**63 - 4096))
    except OSError:
        pass  # cgroup v2 accounts socket memory always


def container_tcp_bytes(container_id: str) -> int | None:
    """TCP buffer memory of HAProxy's own sockets: cgroup v1 kmem.tcp usage, or v2 memory.stat `sock`."""
    try:
        return int(open(CGROUP_V1.format(id=container_id, name="usage_in_bytes")).read())
    except OSError:
        pass
    for pattern in CGROUP_V2:
        try:
            for line in open(pattern.format(id=container_id)):
                if line.startswith("sock "):
                    return int(line.split()[1])
        except OSError:
            pass
    return None


class ProcessResources(Oracle):
    """Samples worker socket fds, RSS, threads, netns TCP counters and the container's TCP buffer memory.

    options: max_socket_fd_growth (fires above it; omit to record only).
    """
    name = "resources"
    OPTIONS = {"max_socket_fd_growth": int}

    def baseline(self, run) -> None:
        enable_tcp_accounting(run.haproxy.container.id)
        self.series = Series("resources", ["socket_fds", "rss_kb", "threads", "tcp_inuse", "tcp_tw",
                                           "container_tcp_bytes", "global_tcp_mem_pages"], t0=run.t0)
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
                        tcp_tw=ss.get("tw"), container_tcp_bytes=container_tcp_bytes(run.haproxy.container.id),
                        global_tcp_mem_pages=ss.get("global_mem_pages"))

    def judge(self, run) -> Finding:
        evidence = self.series.save(run.artifacts, run.marks)
        last = self.series.last("socket_fds")
        growth = (last - self.base_fds) if (last is not None and self.base_fds is not None) else None
        details = {"socket_fds_baseline": self.base_fds, "socket_fds_last": last, "growth": growth,
                   "rss_kb_last": self.series.last("rss_kb"),
                   "container_tcp_bytes_last": self.series.last("container_tcp_bytes")}
        limit = self.options.get("max_socket_fd_growth")
        fired = limit is not None and growth is not None and growth > int(limit)
        return Finding(self.name, fired, f"socket fds {self.base_fds} -> {last} (growth {growth})",
                       details=details, evidence=evidence)
