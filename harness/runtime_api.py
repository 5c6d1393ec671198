"""HAProxy's runtime API (stats socket and master CLI) with parsers for 2.6 → 3.2 output."""
import re
import socket
import time
from dataclasses import dataclass


class CLIError(Exception):
    pass


def _exchange(path: str, payload: str, timeout: float) -> str:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(payload.encode())
        s.shutdown(socket.SHUT_WR)  # end of input: the CLI answers, then closes (as `socat` users do)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode(errors="replace")
    except OSError as exc:
        raise CLIError(f"{path}: {exc}") from exc
    finally:
        s.close()


class CLISocket:
    """A HAProxy CLI on a unix socket: one session per call, `;` joins several commands in it."""

    def __init__(self, path: str, timeout: float = 5.0):
        self.path = path
        self.timeout = timeout

    def cmd(self, *commands: str) -> str:
        return _exchange(self.path, "; ".join(commands) + "\n", self.timeout)


class RuntimeAPI(CLISocket):
    """One-shot commands on a worker's admin stats socket."""

    def expert(self, command: str) -> str:
        """An expert-mode command (e.g. `debug dev panic`) in the same session."""
        return self.cmd("expert-mode on", command)

    def show_info(self) -> dict:
        return parse_info(self.cmd("show info"))

    def show_sess(self) -> list["Stream"]:
        return parse_sess(self.cmd("show sess"))

    def show_sess_all(self) -> list[str]:
        """`show sess all`: one multi-line text block per stream."""
        return split_blocks(self.cmd("show sess all"))


class MasterCLI(CLISocket):
    """The master CLI; each worker command is prefixed with `@1` (3.0.4 and older ignore `@1; a; b`)."""

    def worker(self, *commands: str) -> str:
        return self.cmd(*[f"@1 {c}" for c in commands])

    def show_proc(self) -> list["Proc"]:
        return parse_proc(self.cmd("show proc"))

    def wait_ready(self, timeout: float, alive=lambda: True) -> list["Proc"]:
        """Until the master lists a worker and that worker answers `show info` (readiness, no sleeps)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not alive():
                raise CLIError(f"HAProxy exited before it was ready (last: {last or 'no answer'})")
            try:
                procs = [p for p in self.show_proc() if p.type == "worker"]
                if procs and "Pid:" in self.worker("show info"):
                    return procs
                last = "no worker yet"
            except CLIError as exc:
                last = str(exc)
            time.sleep(0.05)
        raise CLIError(f"HAProxy not ready after {timeout}s: {last}")


def parse_info(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and not key.startswith(" "):
            out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Stream:
    ptr: str
    frontend: str
    backend: str
    exp: str          # "" when the stream has no expiry timer
    age: str
    raw: str

    @property
    def no_expiry(self) -> bool:
        return self.exp == ""


_SESS_RE = re.compile(r"^(0x[0-9a-f]+):\s")


def _field(line: str, name: str) -> str:
    m = re.search(rf"(?:^|\s){name}=(\S*)", line)
    return m.group(1) if m else ""


def parse_sess(text: str) -> list[Stream]:
    """`show sess` one-line form; the stream's own `exp=` is the space-prefixed one (not rex/wex/c_exp)."""
    out = []
    for line in text.splitlines():
        m = _SESS_RE.match(line)
        if m:
            out.append(Stream(m.group(1), _field(line, "fe"), _field(line, "be"), _field(line, "exp"),
                              _field(line, "age"), line))
    return out


def split_blocks(text: str) -> list[str]:
    """Split `show sess all` output at each stream's `0x...:` header line."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if _SESS_RE.match(line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return ["\n".join(b) for b in blocks]


@dataclass(frozen=True)
class Proc:
    pid: int
    type: str
    reloads: int
    uptime: str
    version: str


def parse_proc(text: str) -> list[Proc]:
    """`show proc`: `#<PID> <type> <reloads> <uptime> <version>` rows (2.6 lists relative pid too)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].isdigit() and parts[1] in ("master", "worker"):
            # 2.6+: PID type reloads [failed] uptime version...
            rest = parts[2:]
            reloads = int(rest[0]) if rest[0].isdigit() else 0
            version = parts[-1]
            out.append(Proc(int(parts[0]), parts[1], reloads, parts[-2] if len(parts) > 4 else "", version))
    return out



