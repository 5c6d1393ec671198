#!/usr/bin/env bash
# Host preparation for hrt (Linux). Idempotent: every step asks before acting, so a second run only prints
# "ok" lines. It respects the host: a Docker engine that answers (Docker CE, Docker Desktop for Linux,
# rootless Docker via DOCKER_HOST, Debian's docker.io) is used as it is; packages are installed only on
# Debian and only as root; on any other host the script names the packages to install and stops.
#   ci/setup-host.sh          what `make test-X` needs: a Docker engine, nsenter, debootstrap (Debian)
#   ci/setup-host.sh --test   also what the harness's own test suite needs: a headless Chromium
set -euo pipefail

say() { printf 'setup: %s\n' "$*"; }
PYTHON=${PYTHON:-python3}
want_test_tools=false
[ "${1:-}" = "--test" ] && want_test_tools=true

os_release=${HRT_OS_RELEASE:-/etc/os-release}   # another file only for the tests of this script
os_id=$(. "$os_release" 2>/dev/null && echo "${ID:-unknown}") || os_id=unknown
os_name=$(. "$os_release" 2>/dev/null && echo "${PRETTY_NAME:-$os_id}") || os_name=$os_id
root=false; [ "$(id -u)" = 0 ] && root=true

# apt_install PKG... : on Debian as root, install; elsewhere say exactly what is missing and stop.
apt_install() {
    if [ "$os_id" = debian ] && $root; then
        say "installing $* from Debian's archive"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
    elif [ "$os_id" = debian ]; then
        say "missing: $*; run as root: apt-get install $*"; exit 2
    else
        say "missing on $os_name: $* (install them with your distribution's package manager; hrt installs packages only on Debian)"
        exit 2
    fi
}

if docker info >/dev/null 2>&1; then
    say "ok: a Docker engine answers ($(docker info --format '{{.ServerVersion}} {{.OperatingSystem}}' 2>/dev/null))"
else
    if ! command -v dockerd >/dev/null 2>&1; then
        if [ "$os_id" = debian ]; then
            apt_install docker.io
        else
            say "no Docker engine answers and none is installed on $os_name: install Docker Engine"
            say "(https://docs.docker.com/engine/install/), start it, and run this again (or set DOCKER_HOST)"
            exit 2
        fi
    fi
    if ! $root; then
        say "no Docker engine answers${DOCKER_HOST:+ at DOCKER_HOST=$DOCKER_HOST}; start it as root:"
        say "  systemctl start docker   (or: dockerd &), or add your user to the docker group"; exit 2
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

# nsenter runs host tools inside HAProxy's network namespace (needs root: see the README).
command -v nsenter >/dev/null 2>&1 || apt_install util-linux
# debootstrap bootstraps the Debian base image when no registry answers; off Debian it is optional
# (a registry, or a base image already built) and hrt says what it needs when it does.
if [ "$os_id" = debian ]; then
    missing=()
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
    [ ${#missing[@]} -eq 0 ] && say "ok: debootstrap and Debian's archive keyring present" || apt_install "${missing[@]}"
fi

if "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    say "ok: $PYTHON can make a venv"
else
    apt_install python3-venv
fi

# The harness's own tests render the report in a headless Chromium (fonts: readable screenshots).
if $want_test_tools; then
    if command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then
        say "ok: a headless Chromium present"
    else
        apt_install chromium fonts-dejavu-core
    fi
fi
