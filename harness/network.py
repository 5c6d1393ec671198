"""A private Docker network for a test's containers (e.g. a peer mesh): internal (it reaches nothing
outside, not even the host's networks), labelled `hrt` (leftovers are found by `hrt setup`), removed on
exit together with any container still attached to it."""
import ipaddress
import os
import time

from docker.errors import APIError, NotFound

from .dockerenv import LABEL, client
from .errors import HrtError


class PrivateNetwork:
    """`with PrivateNetwork("mesh") as net:` then `HAProxyInstance(..., network=net.name)` (scenarios:
    `ctx.network()` and `ctx.instance()`).

    Docker hands out addresses in order from the subnet's start (the gateway takes the first), so the
    n-th container attached gets `net.address(n)` (1-based); the instance's `address()` reads the real
    one, to check that before relying on it."""

    def __init__(self, purpose: str):
        self.name = f"hrt-{purpose}-{os.getpid()}-{int(time.time() * 1000) % 100000}"
        self.network = None
        self.subnet: ipaddress.IPv4Network | None = None
        self.gateway: ipaddress.IPv4Address | None = None

    def create(self) -> "PrivateNetwork":
        try:
            self.network = client().networks.create(self.name, driver="bridge", internal=True,
                                                    labels={LABEL: self.name}, check_duplicate=True)
        except APIError as exc:
            raise HrtError(f"cannot create Docker network {self.name}: {exc.explanation or exc}") from None
        self.network.reload()
        cfg = (self.network.attrs.get("IPAM") or {}).get("Config") or [{}]
        if cfg[0].get("Subnet"):
            self.subnet = ipaddress.ip_network(cfg[0]["Subnet"])
            gw = cfg[0].get("Gateway")
            self.gateway = ipaddress.ip_address(gw) if gw else next(self.subnet.hosts())
        return self

    def address(self, n: int) -> str:
        """The address Docker gives the n-th container attached (1-based), after the gateway's."""
        if self.subnet is None:
            raise HrtError(f"network {self.name}: no IPv4 subnet known")
        hosts = [h for h in self.subnet.hosts() if h != self.gateway]
        return str(hosts[n - 1])

    def remove(self) -> None:
        if self.network is None:
            return
        try:
            self.network.reload()
            for ctr in self.network.containers:
                try:
                    ctr.remove(force=True)
                except NotFound:
                    pass
            self.network.remove()
        except NotFound:
            pass
        self.network = None

    def __enter__(self) -> "PrivateNetwork":
        return self.create()

    def __exit__(self, *exc) -> None:
        self.remove()
