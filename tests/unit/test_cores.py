"""kernel.core_pattern: which patterns let a core reach the container's work dir, and what setup says."""
import pytest

from harness import cores


@pytest.mark.parametrize("pattern,reaches", [
    ("core", True), ("core.%p", True), ("|/usr/share/apport/apport -p%p -s%s -c%c", False),
    ("|/usr/lib/systemd/systemd-coredump %P %u", False), ("/var/crash/core.%e.%p", False), ("", False)])
def test_only_relative_patterns_reach_the_container(pattern, reaches):
    assert cores.reaches_container(pattern) is reaches
    assert bool(cores.why_lost(pattern)) is not reaches


@pytest.fixture
def fake_proc(tmp_path, monkeypatch):
    monkeypatch.setattr(cores, "PATTERN", tmp_path / "core_pattern")
    monkeypatch.setattr(cores, "SUID_DUMPABLE", tmp_path / "suid_dumpable")
    (tmp_path / "suid_dumpable").write_text("0\n")
    return tmp_path


def test_without_root_setup_says_exactly_what_to_run(fake_proc):
    (fake_proc / "core_pattern").write_text("|/usr/share/apport/apport -p%p\n")
    s = cores.ensure(fix=False)
    assert not s.ok and "sudo sysctl -w kernel.core_pattern=core fs.suid_dumpable=1" in s.message
    assert "apport" in s.message and (fake_proc / "core_pattern").read_text().startswith("|")


def test_as_root_setup_repairs_and_says_how_to_restore(fake_proc):
    (fake_proc / "core_pattern").write_text("|/usr/share/apport/apport -p%p\n")
    s = cores.ensure(fix=True)
    assert s.ok and "restore with: sysctl -w kernel.core_pattern='|/usr/share/apport/apport -p%p'" in s.message
    assert (fake_proc / "core_pattern").read_text() == "core\n"
    assert (fake_proc / "suid_dumpable").read_text() == "1\n"
    assert cores.ensure(fix=True).message.startswith("ok:")
