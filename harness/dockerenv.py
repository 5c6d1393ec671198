"""The Docker engine connection, with an error that says how to get one."""
from functools import lru_cache

import docker
from docker.errors import DockerException

from .errors import DockerUnavailable

LABEL = "hrt"  # every container, network and image hrt makes carries it, so cleanup can find them


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
    """Remove containers and networks a crashed or interrupted earlier run left behind."""
    c = client()
    n = 0
    for ctr in c.containers.list(all=True, filters={"label": LABEL}):
        ctr.remove(force=True)
        n += 1
    for net in c.networks.list(filters={"label": LABEL}):
        net.remove()
        n += 1
    return n
