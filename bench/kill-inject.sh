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
#   tmp       entries a run added to its TMPDIR (create+remove: PATH still
#             there after `remove`)
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
names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort || true; }
entries() { { find "$1" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l; }
# A random delay of 0 to $1 microseconds, as a busy loop in this shell:
# sleep(1) alone costs a fork and an exec, longer than `create` takes.
now_us() { echo $(( $(date +%s%N) / 1000 )); }
t0=$(now_us); for ((k = 0; k < 200000; k++)); do :; done
loops_per_ms=$(( 200000 * 1000 / ( $(now_us) - t0 + 1 ) + 1 ))
random_delay() {
  local n=$(( (RANDOM * 32768 + RANDOM) % ($1 + 1) * loops_per_ms / 1000 ))
  for ((k = 0; k < n; k++)); do :; done
}
# How long "$@" takes, uninterrupted, in microseconds (the mean of 5 runs):
# the random moments are spread over 0 to 1.2 times that.
duration_us() {
  local t; t=$(now_us)
  for _ in 1 2 3 4 5; do "$@" >/dev/null 2>&1 || true; done
  echo $(( ( $(now_us) - t ) / 5 ))
}

# Start "$@" in a new process group (setsid execs it: its PID is the group's),
# wait a random moment, send the signal to the process or (every other run)
# to its whole group, as Ctrl-C does. Sets $status and $pid. Bash starts a
# background command with SIGINT ignored (no job control in a script), and an
# example keeps an ignored SIGINT ignored, so `env --default-signal=INT`
# restores it before the example starts. (`set -m` instead would lose the
# exit statuses: bash reaps such jobs itself, and `wait` says 127.)
run_killed() {
  local sig=$1 i=$2 want=$3 comm; shift 3
  setsid env --default-signal=INT "$@" >/dev/null 2>>"$errlog" &
  pid=$!
  # The random moment counts from the example's exec, not from setsid's or
  # env's: until /proc/PID/comm (the first 15 bytes of the name) is the
  # example's. `read` is a builtin: no fork while we spin.
  while read -r comm 2>/dev/null <"/proc/$pid/comm" && [ "$comm" != "${want:0:15}" ]; do :; done
  random_delay "$delay_us"
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
  "ch09-mount-propagation"
  "ch11-ipc-namespaces"
)
total_bad=0
for case in "${cases[@]}" "create+remove"; do
  for user in root nobody; do
    [ "$case" = "create+remove" ] && [ "$user" = nobody ] && continue
    as=(); [ "$user" = nobody ] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    for sig in INT TERM KILL; do
      tmp=$(mktemp -d /tmp/kill-inject.XXXXXX); chmod 1777 "$tmp"; batch_dirs+=("$tmp")
      kills=0 left=0 mounts=0 nsfs=0 procs=0 renamed=0
      if [ "$case" = "create+remove" ]; then
        d=$(duration_us "$bin/ch06-persist-bind-mount" create "$tmp/probe")
        "$bin/ch06-persist-bind-mount" remove "$tmp/probe" >/dev/null 2>&1 || true
      else
        # shellcheck disable=SC2086
        d=$(duration_us env TMPDIR="$tmp" "${as[@]}" "$bin"/$case)
      fi
      delay_us=$(( d * 12 / 10 ))
      for i in $(seq "$runs"); do
        before=$(names "$tmp")
        if [ "$case" = "create+remove" ]; then
          path="$tmp/uts-$i"
          run_killed "$sig" "$i" ch06-persist-bind-mount "$bin/ch06-persist-bind-mount" create "$path"
          (( status == 128 + $(kill -l "$sig") )) && kills=$((kills + 1))
          procs=$((procs + $(procs_left "$pid")))
          # What create left, remove must undo completely.
          TMPDIR=$tmp "$bin/ch06-persist-bind-mount" remove "$path" >/dev/null 2>>"$errlog" || true
          m=$(mounts_under "$path")
          mounts=$((mounts + m)); nsfs=$((nsfs + $(nsfs_count "$tmp")))
          (( m )) && umount -l "$path"
          # What is left is the bench's own test file: remove it.
          [ -e "$path" ] && { left=$((left + 1)); rm -f "$path"; }
        else
          # shellcheck disable=SC2086
          run_killed "$sig" "$i" "${case%% *}" env TMPDIR="$tmp" "${as[@]}" "$bin"/$case
          (( status == 128 + $(kill -l "$sig") )) && kills=$((kills + 1))
          procs=$((procs + $(procs_left "$pid")))
          # New names only: this run may also have removed what the run
          # before it left.
          left=$((left + $(comm -13 <(echo "$before") <(names "$tmp") | grep -c . || true)))
        fi
        if [ "$case" != "create+remove" ]; then
          mounts=$((mounts + $(mounts_under "$tmp")))
          nsfs=$((nsfs + $(nsfs_count "$tmp")))
        fi
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
