"""Where one HAProxy binary runs: the image, the binary's path in it, what is mounted, and how gdb reads it.

A binary hrt built (or `bin:PATH`) runs in hrt's runtime image with exactly that file mounted at
/hrt/haproxy; a Debian package runs in an image made from the runtime image with the package installed;
a user's image (`image:REF`) runs as it is, and gdb reads its cores from hrt's runtime image with that
image's own filesystem as sysroot (no gdb in the user's image is assumed).
"""
import platform
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HrtError

EXE = "/hrt/haproxy"
# ELF e_machine values of the architectures Docker images commonly carry, by `uname -m` names
ELF_MACHINES = {62: "x86_64", 183: "aarch64", 3: "i686", 40: "armv7l", 21: "ppc64le", 22: "s390x"}
DOCKER_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l", "ppc64le": "ppc64le",
               "s390x": "s390x"}
MISSING_LIB_RE = re.compile(r"^\s*(\S+) => not found", re.M)


@dataclass(frozen=True)
class Runtime:
    image: str                    # image id or reference the HAProxy container runs
    exe: str                      # the binary's path inside that image
    mounts: dict = field(default_factory=dict)   # host path -> (container path, mode)
    sysroot: Path | None = None   # host copy of a user image's filesystem, for gdb (image: only)
    identity: dict = field(default_factory=dict)  # what was tested: package version, image digest, file sha256

    def gdb(self, runtime_image: str, core_dir: Path) -> tuple[str, list[str], dict]:
        """(image, argv prefix up to the binary, mounts) to run gdb on a core of this binary."""
        mounts = {**self.mounts, core_dir: ("/work", "ro")}
        if self.sysroot is None:   # gdb is in the image itself (hrt's runtime image or one made from it)
            return self.image, ["gdb", "-batch", "-nx", self.exe], mounts
        mounts[self.sysroot] = ("/sysroot", "ro")
        return runtime_image, ["gdb", "-batch", "-nx", "-ex", "set sysroot /sysroot",
                               "-ex", "set debug-file-directory /sysroot/usr/lib/debug", f"/sysroot{self.exe}"], mounts


def for_file(binary: Path, runtime_image: str) -> Runtime:
    """Exactly this file (whatever its name and whatever sits beside it) at /hrt/haproxy."""
    return Runtime(runtime_image, EXE, {binary: (EXE, "ro")})


def elf_arch(head: bytes) -> str:
    """The `uname -m` name of an ELF file's architecture; HrtError when it is not an ELF executable."""
    if head[:4] != b"\x7fELF" or len(head) < 20:
        raise HrtError("not an ELF executable")
    endian = "<" if head[5] == 1 else ">"
    e_type, e_machine = struct.unpack(endian + "HH", head[16:20])
    if e_type not in (2, 3):   # ET_EXEC, ET_DYN (PIE)
        raise HrtError(f"an ELF file of type {e_type}, not an executable")
    return ELF_MACHINES.get(e_machine, f"ELF machine {e_machine}")


def check_binary(path: Path) -> None:
    """A usage error (exit 2) unless path is an executable ELF for this host's architecture."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise HrtError(f"bin:{path}: cannot read it: {exc}") from None
    try:
        arch = elf_arch(head)
    except HrtError as exc:
        raise HrtError(f"bin:{path}: {exc}; bin: takes a HAProxy executable") from None
    check_arch(arch, f"bin:{path}")


def check_arch(arch: str, what: str) -> None:
    host = platform.machine()
    if arch != host:
        raise HrtError(f"{what} is built for {arch}, this host is {host}: it cannot run here")


def missing_libraries(ldd_output: str) -> list[str]:
    return MISSING_LIB_RE.findall(ldd_output)
