"""The Docker engine connection, with an error that says how to get one."""
import os
from functools import lru_cache

import psutil

import docker
from docker.errors import DockerException

from .errors import DockerUnavailable

LABEL = "hrt"  # every container, network and image hrt makes carries it, so cleanup can find them
OWNER = "hrt.owner"  # the pid of the hrt process that made it: leftovers are those whose owner is gone


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
    for ctr in c.containers.list(all=True, filters={"label": LABEL}):
        if _orphaned(ctr.labels):
            ctr.remove(force=True)
            n += 1
    for net in c.networks.list(filters={"label": LABEL}):
        if _orphaned(net.attrs.get("Labels")):
            net.remove()
            n += 1
    return n
