"""What `bin:`, `deb:` and `image:` accept before anything runs: ELF checks, SPEC forms, readings."""
import platform
import struct

import pytest

from harness.errors import HrtError
from harness.expectation import expect
from harness.spec import upstream_release
from harness.runtime import check_binary, elf_arch, missing_libraries
from harness.sources import Source
from harness.spec import parse_spec
from tests.unit.test_expectation import variant
from tests.unit.test_result import result


def elf(machine: int, e_type: int = 3) -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HH", e_type, machine) + b"\0" * 44


def test_elf_arch_names_the_machine():
    assert elf_arch(elf(62)) == "x86_64" and elf_arch(elf(183)) == "aarch64"
    with pytest.raises(HrtError, match="not an ELF"):
        elf_arch(b"#!/bin/sh\n" + b"\0" * 60)
    with pytest.raises(HrtError, match="type 1"):
        elf_arch(elf(62, e_type=1))   # a relocatable object, not an executable


def test_bin_for_another_architecture_is_refused(tmp_path):
    other = 183 if platform.machine() == "x86_64" else 62
    (tmp_path / "haproxy").write_bytes(elf(other))
    with pytest.raises(HrtError, match="is built for .* this host is"):
        check_binary(tmp_path / "haproxy")


def test_missing_libraries_from_ldd():
    out = ("\tlinux-vdso.so.1 (0x00007ffd)\n\tliblua5.3.so.0 => not found\n"
           "\tlibopentracing-c-wrapper.so.0 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n")
    assert missing_libraries(out) == ["liblua5.3.so.0", "libopentracing-c-wrapper.so.0"]


@pytest.mark.parametrize("text,kind,value", [
    ("deb:2.6.12-1+deb12u4", "deb", "2.6.12-1+deb12u4"), ("deb:bookworm", "deb", "bookworm"),
    ("deb:bookworm-security", "deb", "bookworm-security"), ("image:haproxy:2.8", "image", "haproxy:2.8"),
    ("image:registry.example/x/haproxy@sha256:" + "a" * 64, "image", "registry.example/x/haproxy@sha256:" + "a" * 64)])
def test_deployed_spec_forms(text, kind, value):
    s = parse_spec(text)
    assert (s.kind, s.value, str(s)) == (kind, value, text)


@pytest.mark.parametrize("bad", ["deb:", "deb:Bookworm!", "image:"])
def test_bad_deployed_specs(bad):
    with pytest.raises(HrtError, match="deb:VERSION"):
        parse_spec(bad)


@pytest.mark.parametrize("version,release", [("2.6.12-1+deb12u4", "2.6.12"), ("2.8.13-1c6b6d6", "2.8.13"),
                                             ("3.0.11", "3.0.11"), ("3.1-dev10", None)])
def test_upstream_release_of_packaged_versions(version, release):
    assert upstream_release(version) == release


def test_packaged_expectation_is_a_hint_and_a_held_reads_as_backport():
    v = variant()   # 2.8 affected from 2.8.0, fixed in 2.8.13
    e = expect(v, Source(parse_spec("deb:2.8.12-1"), "deb:2.8.12-1", "unknown", "x"), "2.8.12-1~bpo12+1")
    assert (e.verdict, e.by_version) == ("unknown", "reproduced") and "backported" in e.why
    held = result(expected="unknown", verdict="held", by_version="reproduced")
    assert held.reading == "fix present (backported)" and held.matches
    assert result(expected="unknown", verdict="reproduced", by_version="reproduced").reading == "affected"
    assert result(expected="unknown", verdict="held", by_version="held").reading == "not affected"
