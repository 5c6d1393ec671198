#!/usr/bin/env bash
# Host preparation for hrt on Debian 12 as root: Docker engine, debootstrap, Chromium, a running dockerd.
# Idempotent: every step checks before acting, so a second run only prints "ok" lines.
set -euo pipefail

say() { printf 'setup: %s\n' "$*"; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v nsenter >/dev/null 2>&1 || need_pkgs+=(util-linux)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        say "missing ${need_pkgs[*]}; run as root or: apt-get install ${need_pkgs[*]}"; exit 2
    fi
    say "installing ${need_pkgs[*]} from Debian's archive"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
else
    say "ok: docker.io and debootstrap present"
fi

# The report's browser test renders the page in Debian's headless Chromium (fonts: readable screenshots).
if command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then
    say "ok: a headless Chromium present"
elif [ "$(id -u)" != 0 ]; then
    say "missing chromium; run as root or: apt-get install --no-install-recommends chromium fonts-dejavu-core"; exit 2
else
    say "installing chromium and fonts-dejavu-core from Debian's archive"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

if docker info >/dev/null 2>&1; then
    say "ok: dockerd answers"
else
    if [ "$(id -u)" != 0 ]; then
        say "dockerd is not running; start it as root: dockerd &  (or systemctl start docker)"; exit 2
    fi
    if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
        systemctl start docker
    else
        say "starting dockerd (log: /var/log/hrt-dockerd.log)"
        nohup dockerd >/var/log/hrt-dockerd.log 2>&1 &
    fi
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { say "dockerd did not come up; see /var/log/hrt-dockerd.log"; exit 2; }
    say "dockerd is up"
fi

if python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    say "ok: python3 venv available"
else
    say "installing python3-venv"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
fi
