"""The Docker engine: the connection (with an error that says how to get one), labels, leftovers, one-shot
containers."""
import glob
import itertools
import os
import shutil
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import docker
import psutil
from docker.errors import DockerException, NotFound

from .errors import DockerUnavailable, HrtError
from .shield import shielded

LABEL = "hrt"  # every container, network and image hrt makes carries it, so cleanup can find them
OWNER = "hrt.owner"  # the pid of the hrt process that made it: leftovers are those whose owner is gone
TMP_PREFIX = "hrt-"  # HAProxy work dirs: /tmp/hrt-<pid>-*
_serial = itertools.count()


def labels(role: str) -> dict:
    return {LABEL: role, OWNER: str(os.getpid())}


def _orphaned(obj_labels: dict) -> bool:
    owner = (obj_labels or {}).get(OWNER, "")
    return not (owner.isdigit() and psutil.pid_exists(int(owner)))


@lru_cache(maxsize=1)
def client() -> docker.DockerClient:
    try:
        c = docker.from_env(timeout=120)
        c.ping()
        return c
    except DockerException as exc:
        raise DockerUnavailable(
            f"Docker is not available ({exc.__class__.__name__}: {str(exc)[:200]}).\n"
            "Install and start it as root: `make setup` (or: apt-get install docker.io && dockerd &)."
        ) from exc


def remove_leftovers() -> int:
    """Remove containers and networks a crashed or killed earlier run left behind (their owning hrt
    process is gone); those of hrt processes still running are theirs to clean."""
    c = client()
    n = 0
    # sparse listing: no per-container inspect, so one that goes away meanwhile is no error
    for ctr in c.containers.list(all=True, sparse=True, filters={"label": LABEL}):
        if _orphaned(ctr.attrs.get("Labels")):
            try:
                ctr.remove(force=True)
                n += 1
            except NotFound:
                pass
    for net in c.networks.list(filters={"label": LABEL}):
        if _orphaned(net.attrs.get("Labels")):
            try:
                net.remove()
                n += 1
            except NotFound:
                pass
    for path in glob.glob(os.path.join(tempfile.gettempdir(), f"{TMP_PREFIX}[0-9]*-*")):
        pid = os.path.basename(path)[len(TMP_PREFIX):].split("-", 1)[0]
        if _orphaned({OWNER: pid}):   # a work dir of a killed run (SIGKILL skips every finally)
            shutil.rmtree(path, ignore_errors=True)
            n += 1
    return n


def run_in_container(image: str, command: list[str], mounts: dict, timeout: int, log_path: Path | None = None,
                     workdir: str = "/", on_line=None, network: str = "none",
                     entrypoint: list[str] | None = None) -> tuple[int, str]:
    """Run a one-shot container, stream its output to log_path, always remove it.

    network: "none" (no network at all), "container:<id>" (a sidecar in another container's namespace) or
    "bridge" (apt in the package images: Debian's archive, never test traffic). entrypoint: the program
    to run instead of the image's own (a user's image may have one)."""
    name = f"hrt-oneshot-{os.getpid()}-{next(_serial)}"   # known before it exists: removable on any interrupt
    out = []
    deadline = time.monotonic() + timeout
    try:
        ctr = client().containers.create(image, command, name=name, labels=labels("oneshot"), working_dir=workdir,
                                         volumes={str(h): {"bind": c, "mode": m} for h, (c, m) in mounts.items()},
                                         network_mode=network, entrypoint=entrypoint)
        ctr.start()
        log = open(log_path, "w") if log_path else None
        try:
            for chunk in ctr.logs(stream=True, follow=True):
                text = chunk.decode(errors="replace")
                out.append(text)
                if log:
                    log.write(text)
                if on_line and text.strip():
                    on_line(text.strip().splitlines()[-1])
                if time.monotonic() > deadline:
                    ctr.kill()
                    raise HrtError(f"{command[0]} in {image[:19]} exceeded {timeout}s and was killed")
        finally:
            if log:
                log.close()
        status = ctr.wait(timeout=max(1, deadline - time.monotonic()))["StatusCode"]
    finally:
        with shielded():   # an interrupt waits until the container is gone
            try:
                client().containers.get(name).remove(force=True)
            except NotFound:
                pass
    return status, "".join(out)
