#!/usr/bin/env bash
# Kill injection: every example's story (release build), and
# `ch06-persist-bind-mount create PATH` followed by `remove PATH`, killed by
# SIGINT, SIGTERM or SIGKILL at a random moment, many times; then count what
# was left. Run as root: `sudo bash bench/kill-inject.sh` (RUNS=N per example,
# signal and user; default 100). Random delays are fine here, in a benchmark;
# the tests synchronise on lines instead (testkit/tests/interrupted.rs).
#
# Each batch (example x signal x user) gets a TMPDIR of its own, mode 1777,
# so only what appears there is the batch's. Counted after each run:
#   kills     runs that died of the signal (the others had finished first)
#   tmp       entries a run added to its TMPDIR
#   mounts    mounts on or under TMPDIR in the host's mount namespace
#   nsfs      of those, nsfs mounts (a namespace kept alive on the host)
#   procs     processes of the run's process group alive 1 s after it ended
#   hostname  runs after which the host's hostname differed
# and after each batch, `swept`: what was still in TMPDIR after one more,
# uninterrupted run (ch02 and ch06 remove what a SIGKILLed run left).
# Expected: 0 everywhere for SIGINT and SIGTERM; for SIGKILL, tmp may count
# empty directories, and swept must be 0.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: create/remove and uid 65534 need it"; exit 1; }
command -v setpriv >/dev/null || { echo "needs setpriv (util-linux)"; exit 1; }

packages=$(for d in chapters/*/; do printf -- '-p %s ' "$(basename "$d")"; done)
# shellcheck disable=SC2086
cargo build --release --quiet $packages
runs=${RUNS:-100}

# A copy of the binaries that uid 65534 can reach.
bin=$(mktemp -d /tmp/kill-inject-bin.XXXXXX)
chmod 0755 "$bin"
for d in chapters/*/; do cp "target/release/$(basename "$d")" "$bin/"; done
chmod 0755 "$bin"/*
batch_dirs=()
cleanup() {
  rm -rf "$bin"
  for d in "${batch_dirs[@]}"; do rmdir "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

host=$(hostname)
# nsfs mounts under the batch's TMPDIR (where `create` binds): other test
# runs on the machine mount nsfs files elsewhere, which are not ours to count.
nsfs_count() { awk -v d="$1" 'index($5, d "/") == 1 && / - nsfs /' /proc/self/mountinfo | wc -l; }
mounts_under() { awk -v d="$1" '$5 == d || index($5, d "/") == 1' /proc/self/mountinfo | wc -l; }
entries() { { find "$1" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l; }
random_delay() { sleep "0.$(printf '%06d' $(( (RANDOM * 32768 + RANDOM) % ${1:-15000} )))"; }

# Start "$@" in a new process group (setsid execs it: its PID is the group's),
# wait a random moment, send the signal to the process or (every other run)
# to its whole group, as Ctrl-C does. Sets $status and $pid. A shell without
# job control starts background commands with SIGINT ignored, and an example
# keeps an ignored SIGINT ignored: `env --default-signal=INT` undoes that,
# as an interactive shell would.
run_killed() {
  local sig=$1 i=$2; shift 2
  setsid env --default-signal=INT "$@" >/dev/null 2>>"$errlog" &
  pid=$!
  random_delay "${DELAY_US:-8000}"
  if (( i % 2 )); then kill -s "$sig" -- "-$pid" 2>/dev/null || true
  else kill -s "$sig" "$pid" 2>/dev/null || true; fi
  status=0; { wait "$pid"; } 2>/dev/null || status=$?
}

# Live processes left in group $1, waiting up to 1 s for them to go (a
# witness exits when it reads end-of-file, a moment after its parent died).
# Zombies do not count: a child whose parent was killed is reparented to
# PID 1, whose job reaping it is (this VM's init reaps slowly).
procs_left() {
  local n
  for _ in $(seq 20); do
    n=$(ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | wc -l)
    [ "$n" = 0 ] && { echo 0; return; }
    sleep 0.05
  done
  pkill -KILL -g "$1" || true
  echo "$n"
}

printf '| case | user | signal | runs | kills | tmp | mounts | nsfs | procs | hostname | swept |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
errlog=$(mktemp /tmp/kill-inject-err.XXXXXX)
cases=(
  "ch01-what-is-a-namespace" "ch02-unshare" "ch03-clone-uts" "ch03-clone-uts --libc"
  "ch04-join-proc" "ch05-join-pidfd" "ch06-persist-bind-mount"
)
total_bad=0
for case in "${cases[@]}" "create+remove"; do
  for user in root nobody; do
    [ "$case" = "create+remove" ] && [ "$user" = nobody ] && continue
    as=(); [ "$user" = nobody ] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    for sig in INT TERM KILL; do
      tmp=$(mktemp -d /tmp/kill-inject.XXXXXX); chmod 1777 "$tmp"; batch_dirs+=("$tmp")
      kills=0 left=0 mounts=0 nsfs=0 procs=0 renamed=0
      for i in $(seq "$runs"); do
        before=$(entries "$tmp")
        if [ "$case" = "create+remove" ]; then
          path="$tmp/uts-$i"
          run_killed "$sig" "$i" "$bin/ch06-persist-bind-mount" create "$path"
          (( status == 128 + $(kill -l "$sig") )) && kills=$((kills + 1))
          procs=$((procs + $(procs_left "$pid")))
          # What create left, remove must undo completely.
          TMPDIR=$tmp "$bin/ch06-persist-bind-mount" remove "$path" >/dev/null 2>>"$errlog" || true
          if [ -e "$path" ] || [ "$(mounts_under "$path")" != 0 ]; then
            left=$((left + 1))
            umount -l "$path" 2>/dev/null || true; rm -f "$path"
          fi
        else
          # shellcheck disable=SC2086
          run_killed "$sig" "$i" env TMPDIR="$tmp" "${as[@]}" "$bin"/$case
          (( status == 128 + $(kill -l "$sig") )) && kills=$((kills + 1))
          procs=$((procs + $(procs_left "$pid")))
          after=$(entries "$tmp")
          (( after > before )) && left=$((left + after - before))
        fi
        mounts=$((mounts + $(mounts_under "$tmp")))
        nsfs=$((nsfs + $(nsfs_count "$tmp")))
        [ "$(hostname)" = "$host" ] || { renamed=$((renamed + 1)); hostname "$host"; }
      done
      swept=-
      if [ "$case" != "create+remove" ]; then
        # shellcheck disable=SC2086
        env TMPDIR="$tmp" "${as[@]}" "$bin"/$case >/dev/null 2>>"$errlog" || true
        swept=$(entries "$tmp")
      fi
      printf '| %s | %s | SIG%s | %d | %d | %d | %d | %d | %d | %d | %s |\n' \
        "$case" "$user" "$sig" "$runs" "$kills" "$left" "$mounts" "$nsfs" "$procs" "$renamed" "$swept"
      if [ "$sig" != KILL ]; then
        total_bad=$((total_bad + left + mounts + nsfs + procs + renamed))
      else
        total_bad=$((total_bad + mounts + renamed + ${swept/-/0}))
      fi
      # What is left is the batch's own: empty directories at most.
      find "$tmp" -mindepth 1 -maxdepth 1 -type d -empty -delete 2>/dev/null || true
    done
  done
done
panics=$(grep -c 'panicked' "$errlog" || true)
echo
echo "panics on stderr: $panics; leftovers that should be 0: $total_bad"
rm -f "$errlog"
