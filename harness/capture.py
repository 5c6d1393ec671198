"""A bounded packet capture of HAProxy's loopback (scapy), kept with the run's evidence: NAME.pcap for
Wireshark and NAME-flows.txt, one line per TCP flow (packets, bytes, SYN/FIN/RST), which says at a glance
who reset whom in a trigger window. The socket is opened inside HAProxy's network namespace, so only
that namespace's traffic (the test's own) is ever seen."""
from collections import defaultdict
from pathlib import Path

from .netns import NetNS


class Capture:
    def __init__(self, ns: NetNS, artifacts: Path, name: str, max_packets: int = 20000):
        self.ns, self.name, self.max_packets = ns, name, max_packets
        self.pcap, self.flows = artifacts / f"{name}.pcap", artifacts / f"{name}-flows.txt"
        self.packets: list = []

    def __enter__(self) -> "Capture":
        from scapy.all import AsyncSniffer, conf   # imported lazily: scapy takes a second to import
        sock = self.ns.run(conf.L2listen, iface="lo")   # bound in HAProxy's namespace: its loopback only
        self._sniffer = AsyncSniffer(opened_socket=sock, store=True, count=self.max_packets)
        self._sniffer.start()
        return self

    def __exit__(self, *exc) -> None:
        from scapy.all import wrpcap
        self.packets = unique(self._sniffer.stop() or [])
        wrpcap(str(self.pcap), self.packets)
        self.flows.write_text("\n".join(flow_lines(self.packets)) + "\n")


def unique(packets: list) -> list:
    """Loopback hands a packet socket every packet twice (sent, then received): keep one of each pair."""
    out, last = [], None
    for p in packets:
        raw = bytes(p)
        if raw != last:
            out.append(p)
        last = raw
    return out


def flow_lines(packets: list) -> list[str]:
    """`127.0.0.1:40000 > 127.0.0.1:8080  12 pkts  5120 B  SYN 1 FIN 0 RST 1` per TCP direction."""
    from scapy.layers.inet import IP, TCP
    flows = defaultdict(lambda: {"pkts": 0, "bytes": 0, "S": 0, "F": 0, "R": 0})
    for p in packets:
        if IP in p and TCP in p:
            f = flows[(p[IP].src, p[TCP].sport, p[IP].dst, p[TCP].dport)]
            f["pkts"] += 1
            f["bytes"] += len(p[TCP].payload)
            for flag in "SFR":
                f[flag] += flag in str(p[TCP].flags)
    return [f"{s}:{sp} > {d}:{dp}  {f['pkts']} pkts  {f['bytes']} B  SYN {f['S']} FIN {f['F']} RST {f['R']}"
            for (s, sp, d, dp), f in sorted(flows.items())]
