"""Packet-level traffic with scapy, sent from inside the namespace (loopback only)."""
from ..netns import NetNS


def send_packets(ns: NetNS, packets, iface: str = "lo") -> None:
    """Send crafted layer-3 packets (e.g. a TCP RST with a chosen sequence) on the namespace's loopback."""
    from scapy.all import conf  # imported lazily: scapy is slow to import

    def call():
        sock = conf.L3socket(iface=iface)
        try:
            for p in packets:
                sock.send(p)
        finally:
            sock.close()
    ns.run(call)


def sniff(ns: NetNS, count: int, timeout: float, bpf: str = "tcp", iface: str = "lo") -> list:
    """Capture up to `count` packets on the namespace's loopback for at most `timeout` seconds."""
    from scapy.all import sniff as scapy_sniff

    return list(ns.run(scapy_sniff, iface=iface, count=count, timeout=timeout, filter=bpf))
