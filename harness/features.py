"""What a built HAProxy can do, read from its own `haproxy -vv`."""
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Features:
    version: str                      # e.g. "3.0.11" or "3.1-dev10-7a02fc-64"
    flags: frozenset = field(default_factory=frozenset)   # lower-case: lua, quic, openssl, asan, promex...
    lua_version: str = ""
    vv: str = ""

    def has(self, name: str) -> bool:
        return name.lower() in self.flags

    @property
    def branch(self) -> tuple[int, int]:
        m = re.match(r"(\d+)\.(\d+)", self.version)
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def parse_vv(text: str) -> Features:
    m = re.search(r"HA-?Proxy version (\S+)", text)
    version = m.group(1) if m else "unknown"
    flags = set()
    for fm in re.finditer(r"Feature list\s*:\s*(.*?)(?:\n\s*\n|\nDefault settings|\nBuilt with)", text, re.S):
        flags |= {tok[1:].lower() for tok in fm.group(1).split() if tok.startswith("+")}
    om = re.search(r"^\s*OPTIONS\s*=\s*(.*)$", text, re.M)
    if om:
        flags |= {o.split("=")[0][4:].lower() for o in om.group(1).split() if o.startswith("USE_") and o.endswith("=1")}
    if "-fsanitize=address" in text:
        flags.add("asan")
    lm = re.search(r"Built with Lua version : Lua (\S+)", text)
    if lm:
        flags.add("lua")
    if re.search(r"^\s*quic\s*:", text, re.M) or re.search(r"\bquic\s*:\s*mode=HTTP", text):
        flags.add("quic")
    if "Built with OpenSSL version" in text:
        flags.add("openssl")
    if "Built with the Prometheus exporter" in text:
        flags.add("promex")
    return Features(version=version, flags=frozenset(flags), lua_version=lm.group(1) if lm else "", vv=text)
