"""The HAProxy people deploy: `bin:` runs exactly the named file, `deb:` Debian's package installed by apt,
`image:` any Docker image (here built locally: one with Debian's package, one FROM scratch with only a
binary and its libraries), with cores read by gdb through the image's own filesystem."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.case import find
from harness.dockerenv import client, run_in_container
from harness.packaged import deb_runtime
from harness.runner import check
from tests.support import need_mirror

pytestmark = pytest.mark.docker
HRT = [sys.executable, "-m", "harness.cli"]
DEBIAN_PACKAGE = "2.6.12-1+deb12u4"    # Debian 12's current haproxy (bookworm-security)


def hrt(*args, timeout=600):
    return subprocess.run([*HRT, *args], capture_output=True, text=True, timeout=timeout)


def scratch_image(binary: Path, runtime_image: str, tag: str) -> str:
    """An image FROM scratch holding only this binary (at /usr/local/sbin/haproxy) and the libraries it
    links (and libgcc_s, which glibc loads at thread exit), copied out of hrt's runtime image: the
    smallest thing a vendor could ship."""
    with tempfile.TemporaryDirectory(prefix="hrt-scratch-") as d:
        script = ("mkdir -p /out/rootfs/usr/local/sbin && cp /hrt/haproxy /out/rootfs/usr/local/sbin/haproxy && "
                  "for f in $(ldd /hrt/haproxy | grep -o '/[^ ]*') /lib/*/libgcc_s.so.1; do "
                  "cp -L --parents \"$f\" /out/rootfs; done")   # glibc dlopens libgcc_s for pthread_exit
        status, out = run_in_container(runtime_image, ["-c", script], {binary: ("/hrt/haproxy", "ro"),
                                                                       Path(d): ("/out", "rw")}, 120,
                                       entrypoint=["sh"])
        assert status == 0, out
        (Path(d) / "Dockerfile").write_text('FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ["/usr/local/sbin/haproxy"]\n')
        client().images.build(path=d, tag=tag, rm=True, forcerm=True, labels={"hrt": "test"})
    return tag


@pytest.fixture(scope="module")
def debian_package_image(images):
    """Debian's own haproxy package installed by apt on the plain bookworm base: no gdb in it."""
    tag = "hrt-test/debian-haproxy:bookworm"
    dockerfile = (f"FROM {images.base}\nRUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                  "--no-install-recommends haproxy && rm -rf /var/lib/apt/lists/*\n")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "Dockerfile").write_text(dockerfile)
        client().images.build(path=d, tag=tag, rm=True, forcerm=True, pull=False, labels={"hrt": "test"})
    return tag


def test_deb_package_crash_has_core_and_backtrace(images):
    (variant,) = find("canary-crash/sigsegv")
    r = check(variant, f"deb:{DEBIAN_PACKAGE}", images=images)
    assert r.verdict == "reproduced", r.reason
    assert r.identity["version"] == DEBIAN_PACKAGE and r.identity["package"] == "haproxy"
    bt = next(Path(p) for p in r.evidence if p.endswith("backtrace.txt")).read_text()
    assert "run_poll_loop" in bt                       # the package keeps its exported symbols
    assert bt.startswith("== symbols missing") == ("haproxy-dbgsym" not in r.identity["debug_symbols"])


def test_deb_package_reads_against_its_upstream_version(images):
    """tcp-leak-2.8 is measured not affected on 2.6: by version "held", the package holds: not affected."""
    (variant,) = find("tcp-leak-2.8/recipe")
    r = check(variant, f"deb:{DEBIAN_PACKAGE}", images=images)
    assert (r.by_version, r.verdict, r.reading) == ("held", "held", "not affected"), r.reason
    assert r.expected == "unknown" and r.matches


@pytest.mark.skipif(not os.environ.get("HRT_UBUNTU_MIRROR"), reason="needs HRT_UBUNTU_MIRROR (an Ubuntu archive "
                    "mirror; .ci/run sets it when archive.ubuntu.com answers)")
def test_ubuntu_package_crash_has_core_and_backtrace(images):
    """Ubuntu 24.04's own package (the release pocket's 2.8.5): installed on a noble base, its core read by
    the runtime image's gdb through the package image's filesystem."""
    (variant,) = find("canary-crash/sigsegv")
    r = check(variant, "deb:noble", images=images)
    assert r.verdict == "reproduced", r.reason
    assert r.identity["archive"] == "Ubuntu 24.04 (noble)" and "ubuntu" in r.identity["version"]
    bt = next(Path(p) for p in r.evidence if p.endswith("backtrace.txt")).read_text()
    assert "/sysroot/" in bt and "run_poll_loop" in bt and bt.startswith("== symbols missing")


def test_image_with_debian_package_and_no_gdb(debian_package_image):
    p = hrt("check", "canary-crash/sigsegv", "--haproxy", f"image:{debian_package_image}", "--json")
    out = json.loads(p.stdout)
    assert p.returncode == 0 and out["verdict"] == "reproduced", p.stderr
    bt = next(Path(e) for e in out["evidence"] if e.endswith("backtrace.txt")).read_text()
    assert "run_poll_loop" in bt and "libc.so.6" in bt   # gdb found the image's libc through the sysroot


def test_scratch_image_and_bin_give_the_same_verdicts(images, prepared, tmp_path):
    _, b, _ = prepared("3.0.11")
    tag = scratch_image(b.binary, images.runtime, "hrt-test/scratch-haproxy:3.0.11")
    for spec in (f"image:{tag}", f"bin:{b.binary}"):
        p = hrt("check", "canary-crash/sigsegv", "--haproxy", spec, "--json")
        out = json.loads(p.stdout)
        assert p.returncode == 0 and out["verdict"] == "reproduced" and out["version"].startswith("3.0.11"), spec
        bt = next(Path(e) for e in out["evidence"] if e.endswith("backtrace.txt")).read_text()
        assert "src/haproxy.c" in bt and not bt.startswith("== symbols missing"), spec   # hrt's -g build


def test_bin_runs_exactly_the_named_file(prepared, tmp_path):
    """A directory holding another `haproxy` beside the named file: the named file is what runs."""
    (_, new, _), (_, old, _) = prepared("3.0.11"), prepared("2.6.12")
    shutil.copy(new.binary, tmp_path / "haproxy-3.0.11")
    shutil.copy(old.binary, tmp_path / "haproxy")
    p = hrt("check", "canary-crash/no-crash", "--haproxy", f"bin:{tmp_path / 'haproxy-3.0.11'}", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["version"].startswith("3.0.11"), p.stderr


def test_bin_with_libraries_the_runtime_lacks_says_which(images, tmp_path):
    """Debian's package binary links libopentracing-c-wrapper, which hrt's runtime image does not carry."""
    image = deb_runtime(DEBIAN_PACKAGE, images).image
    status, _ = run_in_container(image, ["-c", "cp /usr/sbin/haproxy /out/"], {tmp_path: ("/out", "rw")}, 60,
                                 entrypoint=["sh"])
    assert status == 0
    p = hrt("check", "canary-crash/no-crash", "--haproxy", f"bin:{tmp_path / 'haproxy'}", "--json")
    out = json.loads(p.stdout)
    assert out["verdict"] == "untestable" and "libopentracing-c-wrapper.so.0" in p.stderr, p.stderr


@pytest.mark.parametrize("spec,says", [
    ("bin:{tmp}/not-elf", "not an ELF executable"),
    ("image:hrt/base:bookworm", "holds no HAProxy"),
    ("image:hrt-test/no-such-image:1", "no such image"),
    ("deb:2.6.12-1+deb12u99", "it has: 2.6.12-1+deb12u"),
])
def test_bad_deployed_specs_are_usage_errors(tmp_path, spec, says):
    (tmp_path / "not-elf").write_text("#!/bin/sh\necho haproxy\n")
    os.chmod(tmp_path / "not-elf", 0o755)
    p = hrt("check", "canary-crash/no-crash", "--haproxy", spec.format(tmp=tmp_path))
    assert p.returncode == 2 and says in p.stderr, p.stderr


@pytest.mark.mirror
@pytest.mark.parametrize("release,verdict", [("2.8.13", "reproduced"), ("2.8.14", "held")])
def test_tcp_leak_on_deployed_forms_of_one_binary(release, verdict, images, prepared):
    need_mirror(f"v{release}")
    _, b, _ = prepared(release)
    tag = scratch_image(b.binary, images.runtime, f"hrt-test/scratch-haproxy:{release}")
    for spec in (f"image:{tag}", f"bin:{b.binary}"):
        p = hrt("check", "tcp-leak-2.8/recipe", "--haproxy", spec, "--json")
        out = json.loads(p.stdout)
        assert out["verdict"] == verdict, (spec, p.stderr)
