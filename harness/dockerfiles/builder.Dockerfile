# Builds HAProxy trees: the toolchain and development headers on the base image (Lua 5.3 for <= 2.8
# and 5.4 from 2.9, chosen at build time, as the official image does). Its image id is part of every
# build's cache key, so it does not derive from the runtime image.
ARG BASE
FROM ${BASE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      gcc make libc6-dev libssl-dev liblua5.3-dev liblua5.4-dev libpcre2-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
