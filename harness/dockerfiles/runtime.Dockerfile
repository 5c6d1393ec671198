# Runs HAProxy builds: their shared libraries (both Lua versions, libasan for the asan profile),
# gdb for backtraces, and the tools the oracles and load scenarios use (ss, wrk, h2load).
ARG BASE
FROM ${BASE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libssl3 liblua5.3-0 liblua5.4-0 libpcre2-8-0 zlib1g libasan8 \
      gdb iproute2 procps ca-certificates wrk nghttp2-client \
 && rm -rf /var/lib/apt/lists/*
