import pytest

from harness.errors import (BuildFailed, CaseError, ChecksumMismatch, ConfigRejected, DockerUnavailable,
                            HrtError, SourceUnavailable, UnknownVersion)


@pytest.mark.parametrize("cls", [UnknownVersion, SourceUnavailable, ChecksumMismatch, DockerUnavailable,
                                 CaseError])
def test_setup_errors_exit_2(cls):
    err = cls("x")
    assert isinstance(err, HrtError)
    assert err.exit_status == 2


def test_config_rejected_numbers_the_config():
    err = ConfigRejected("haproxy -c refused the config", "[ALERT] parsing [/w/h.cfg:2] : unknown keyword 'bogus'\n",
                         "global\n    bogus\n", "/w/h.cfg")
    msg = str(err)
    assert msg.startswith("haproxy -c refused the config\nHAProxy said:\n[ALERT] parsing [/w/h.cfg:2]")
    assert "Rendered config (/w/h.cfg):" in msg
    assert "   1  global\n   2      bogus" in msg
    assert err.config_path == "/w/h.cfg"
    assert err.exit_status == 2


def test_build_failed_carries_log():
    err = BuildFailed("build of 2.8.13 failed", "/c/build.log", "make: *** [Makefile:1] Error 1")
    msg = str(err)
    assert "build log: /c/build.log" in msg
    assert msg.endswith("--- last lines ---\nmake: *** [Makefile:1] Error 1")
    assert err.log_tail.startswith("make:")
