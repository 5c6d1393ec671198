"""Run traffic inside a container's network namespace from the harness process.

Threads of a dedicated pool call setns(2) once; sockets they create belong to that namespace for
life, so they can then be used from any thread. Subprocesses (wrk, ss) go through nsenter.
"""
import ctypes
import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


class NetNS:
    def __init__(self, pid: int, workers: int = 32):
        self.pid = pid
        self.path = f"/proc/{pid}/ns/net"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"netns-{pid}",
                                        initializer=_setns, initargs=(self.path,))

    def run(self, fn, *args, **kwargs):
        """Call fn inside the namespace and return its result."""
        return self._pool.submit(fn, *args, **kwargs).result()

    def socket(self, family=socket.AF_INET, type=socket.SOCK_STREAM, proto=0) -> socket.socket:
        return self.run(socket.socket, family, type, proto)

    def popen(self, argv: list[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(["nsenter", f"--net={self.path}", "--", *argv], **kwargs)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
