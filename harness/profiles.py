"""Build profiles: which make variables a profile sets, limited to what the tree's Makefile knows."""
import re

PROFILES = ("default", "quic", "asan")

_DEFAULT = ["USE_OPENSSL", "USE_LUA", "USE_PCRE2", "USE_PCRE2_JIT", "USE_ZLIB", "USE_PROMEX"]
_QUIC = ["USE_QUIC", "USE_QUIC_OPENSSL_COMPAT"]
ASAN_FLAGS = "-g -fsanitize=address -fno-omit-frame-pointer"


def tree_version(version_file_text: str) -> tuple[int, int]:
    """(major, minor) from a tree's VERSION file ("3.1-dev10" -> (3, 1)); (99, 0) when unknown."""
    m = re.match(r"\s*(\d+)\.(\d+)", version_file_text or "")
    return (int(m.group(1)), int(m.group(2))) if m else (99, 0)


def lua_for(version: tuple[int, int]) -> str:
    """Lua 5.3 for <= 2.8 and 5.4 from 2.9, as the official image does."""
    return "5.3" if version <= (2, 8) else "5.4"


def make_args(profile: str, makefile_text: str, version: tuple[int, int]) -> list[str]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    wanted = _DEFAULT + (_QUIC if profile == "quic" else [])
    args = ["TARGET=linux-glibc"]
    args += [f"{opt}=1" for opt in wanted if re.search(rf"\b{opt}\b", makefile_text)]
    if "USE_LUA=1" in args:
        lua = lua_for(version)
        args += [f"LUA_INC=/usr/include/lua{lua}", f"LUA_LIB_NAME=lua{lua}"]
    if profile == "asan":
        args.append(f"ARCH_FLAGS={ASAN_FLAGS}")
    return args


def missing_options(profile: str, makefile_text: str) -> list[str]:
    """Options the profile needs that this tree does not know (a quic build of a pre-QUIC tree)."""
    required = ["USE_QUIC"] if profile == "quic" else []
    return [o for o in required if not re.search(rf"\b{o}\b", makefile_text)]
