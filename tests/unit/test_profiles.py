import pytest

from harness.profiles import ASAN_FLAGS, PROFILES, lua_for, make_args, missing_options, tree_version

# Trimmed from real Makefiles: 2.6 knows USE_QUIC but not USE_QUIC_OPENSSL_COMPAT; 2.4 knows neither.
MAKEFILE_30 = """\
#   USE_OPENSSL          : enable use of OpenSSL. Recommended, but see below.
#   USE_QUIC             : enable use of QUIC with the quictls API (quictls, libressl, boringssl)
#   USE_QUIC_OPENSSL_COMPAT : enable use of QUIC with the standard openssl API (limited features)
#   USE_LUA              : enable Lua support.
#   USE_PCRE2            : enable use of libpcre2 for regex.
#   USE_PCRE2_JIT        : enable JIT for faster regex on libpcre2
#   USE_ZLIB             : enable zlib library support and disable SLZ
#   USE_PROMEX           : enable the Prometheus exporter
use_opts = USE_EPOLL USE_KQUEUE USE_NETFILTER USE_POLL USE_THREAD USE_PCRE2 USE_PCRE2_JIT \\
           USE_OPENSSL USE_LUA USE_ZLIB USE_PROMEX USE_QUIC USE_QUIC_OPENSSL_COMPAT
"""
MAKEFILE_26 = MAKEFILE_30.replace(" USE_QUIC_OPENSSL_COMPAT", "").replace(
    "#   USE_QUIC_OPENSSL_COMPAT : enable use of QUIC with the standard openssl API (limited features)\n", "")
MAKEFILE_OLD = """\
use_opts = USE_EPOLL USE_PCRE USE_PCRE_JIT USE_PCRE2 USE_PCRE2_JIT USE_OPENSSL USE_LUA USE_ZLIB
"""


def test_default_profile_on_a_recent_tree():
    args = make_args("default", MAKEFILE_30, (3, 0))
    assert args[0] == "TARGET=linux-glibc"
    assert set(args) == {"TARGET=linux-glibc", "USE_OPENSSL=1", "USE_LUA=1", "USE_PCRE2=1", "USE_PCRE2_JIT=1",
                         "USE_ZLIB=1", "USE_PROMEX=1", "LUA_INC=/usr/include/lua5.4", "LUA_LIB_NAME=lua5.4"}


def test_only_options_the_makefile_knows():
    args = make_args("default", MAKEFILE_OLD, (2, 2))
    assert "USE_PROMEX=1" not in args
    assert {"USE_OPENSSL=1", "USE_LUA=1", "USE_PCRE2=1", "USE_PCRE2_JIT=1", "USE_ZLIB=1"} <= set(args)
    assert not any(a.startswith("USE_QUIC") for a in args)


def test_prefix_of_another_option_is_not_known():
    """USE_PCRE2_JIT in the Makefile must not make USE_PCRE2 look known (word boundaries)."""
    args = make_args("default", "use_opts = USE_PCRE2_JIT USE_QUIC_OPENSSL_COMPAT\n", (3, 0))
    assert "USE_PCRE2=1" not in args
    assert "USE_PCRE2_JIT=1" in args
    assert make_args("quic", "use_opts = USE_QUIC_OPENSSL_COMPAT\n", (3, 0)).count("USE_QUIC=1") == 0


def test_no_lua_variables_without_lua():
    args = make_args("default", "use_opts = USE_OPENSSL\n", (3, 0))
    assert args == ["TARGET=linux-glibc", "USE_OPENSSL=1"]


@pytest.mark.parametrize("version,lua", [((2, 6), "5.3"), ((2, 8), "5.3"), ((2, 9), "5.4"), ((3, 0), "5.4"),
                                         ((99, 0), "5.4")])
def test_lua_version_by_branch(version, lua):
    assert lua_for(version) == lua
    args = make_args("default", MAKEFILE_30, version)
    assert f"LUA_INC=/usr/include/lua{lua}" in args
    assert f"LUA_LIB_NAME=lua{lua}" in args


def test_asan_adds_arch_flags_and_keeps_g():
    args = make_args("asan", MAKEFILE_30, (3, 0))
    assert f"ARCH_FLAGS={ASAN_FLAGS}" in args
    assert "-fsanitize=address" in ASAN_FLAGS and "-g" in ASAN_FLAGS.split()
    assert set(make_args("default", MAKEFILE_30, (3, 0))) < set(args)
    assert not any(a.startswith("ARCH_FLAGS") for a in make_args("default", MAKEFILE_30, (3, 0)))


def test_quic_profile():
    args = make_args("quic", MAKEFILE_30, (3, 0))
    assert {"USE_QUIC=1", "USE_QUIC_OPENSSL_COMPAT=1"} <= set(args)
    assert missing_options("quic", MAKEFILE_30) == []
    args26 = make_args("quic", MAKEFILE_26, (2, 6))
    assert "USE_QUIC=1" in args26 and "USE_QUIC_OPENSSL_COMPAT=1" not in args26
    assert missing_options("quic", MAKEFILE_26) == []


def test_quic_on_a_pre_quic_tree_is_missing():
    assert missing_options("quic", MAKEFILE_OLD) == ["USE_QUIC"]
    assert not any(a.startswith("USE_QUIC") for a in make_args("quic", MAKEFILE_OLD, (2, 4)))


@pytest.mark.parametrize("profile", ["default", "asan"])
def test_other_profiles_miss_nothing(profile):
    assert missing_options(profile, MAKEFILE_OLD) == []


def test_default_never_asks_for_quic():
    assert not any(a.startswith("USE_QUIC") for a in make_args("default", MAKEFILE_30, (3, 0)))


def test_unknown_profile():
    with pytest.raises(ValueError, match="known: default, quic, asan"):
        make_args("tsan", MAKEFILE_30, (3, 0))
    assert PROFILES == ("default", "quic", "asan")


@pytest.mark.parametrize("text,expected", [("3.1-dev10\n", (3, 1)), ("2.8.13", (2, 8)), ("  3.0.11 ", (3, 0)),
                                           ("", (99, 0)), ("garbage", (99, 0)), (None, (99, 0))])
def test_tree_version(text, expected):
    assert tree_version(text) == expected
