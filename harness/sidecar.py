"""A tool of hrt's runtime image (wrk, h2load, ss) running beside one HAProxy: in its network namespace,
with its work dir at /work, bounded in time, removed with it. A sidecar container, so the HAProxy under
test may come from any image (image:REF, deb:) and needs none of these tools."""
import itertools
import os

from docker.errors import APIError

from .dockerenv import client, labels

_serial = itertools.count()


class Sidecar:
    def __init__(self, image: str, beside: str, workdir, argv: list[str], timeout: float):
        """Start argv (killed after `timeout` seconds by coreutils `timeout`, then SIGKILL 2 s later)."""
        self.name = f"hrt-tool-{os.getpid()}-{next(_serial)}"   # removable by name whatever interrupts
        self.container = client().containers.run(
            image, ["timeout", "-k", "2", str(max(1, int(timeout))), *argv], name=self.name, detach=True,
            labels=labels("tool"), network_mode=f"container:{beside}", working_dir="/work",
            volumes={str(workdir): {"bind": "/work", "mode": "rw"}})

    def running(self) -> bool:
        try:
            self.container.reload()
        except APIError:   # gone, or being removed with HAProxy
            return False
        return self.container.status == "running"

    def wait(self, timeout: float) -> int | None:
        """The exit status, or None if it still runs after `timeout` seconds."""
        try:
            return self.container.wait(timeout=timeout)["StatusCode"]
        except Exception:   # requests' ReadTimeout (still running), or gone / being removed with HAProxy
            return None

    def output(self) -> str:
        try:
            return self.container.logs(stdout=True, stderr=True).decode(errors="replace")
        except APIError:   # gone, or dead and being removed with HAProxy (409)
            return ""

    def stop(self) -> None:
        try:
            self.container.kill()
        except APIError:   # already exited
            pass

    def remove(self) -> None:
        try:
            client().containers.get(self.name).remove(force=True)
        except APIError:   # gone, or its removal already under way
            pass
