# Builds HAProxy trees: the toolchain and development headers on the base image (Lua 5.3 for <= 2.8
# and 5.4 from 2.9, chosen at build time, as the official image does). Its image id is part of every
# build's cache key, so it does not derive from the runtime image.
# ccache answers `cc` (Debian's masquerade directory, plus the `cc` link it lacks, first in PATH, so
# `haproxy -vv` still says CC=cc); its directory is the host's ~/.cache/hrt/ccache, mounted at /ccache
# by every build: commits that differ in a few files (bisect steps) recompile only those. Trees are always built in /src, so
# objects built with -g hash alike; header ctimes are new after every extraction, hence the sloppiness.
ARG BASE
FROM ${BASE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      gcc make libc6-dev libssl-dev liblua5.3-dev liblua5.4-dev libpcre2-dev zlib1g-dev ccache \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s ../../bin/ccache /usr/lib/ccache/cc
ENV PATH=/usr/lib/ccache:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CCACHE_DIR=/ccache CCACHE_MAXSIZE=5G CCACHE_SLOPPINESS=include_file_ctime,include_file_mtime
