#!/usr/bin/env bash
# Kill injection for the exercise harness: run an exercise's test binary
# (the runner) RUNS times, send SIGNAL at a random moment of each run, and
# count what is left once it is gone: living processes of the binary (or of
# its copy in the run's directory), the run's
# /tmp/workbook-run.<pid namespace>.<runner pid>.* directories, and mounts
# under them. Only this run's: other runs of the same exercise on the
# machine are neither counted nor killed.
# The random delay is the point here (a moment nobody chose), not a way to
# wait for something.
#
#   bash testkit/kill-injection.sh [PACKAGE] [SIGNAL] [RUNS]
#   bash testkit/kill-injection.sh ex11-persist-ns-solution INT 100
#
# Expected: 0 of everything for INT, TERM and HUP. For KILL, which nothing
# can catch, the directories stay until the next run removes them (their
# owner is provably gone), and the case's own process dies with the runner
# (PR_SET_PDEATHSIG); see testkit/src/exercise/reap.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
package=${1:-ex11-persist-ns-solution} signal=${2:-INT} runs=${3:-100}
binary=$(cargo test -q --no-run -p "$package" --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | head -1)
[ -x "$binary" ] || { echo "no test binary for $package"; exit 1; }
pid_ns=$(stat -L -c %i /proc/self/ns/pid)
# The living processes of one run (runner PID $1): /proc/PID/exe is the
# binary or a copy in the run's directory. A zombie has no exe link: dead,
# re-parented to an init that does not reap, not counted.
left_of() {
  local proc exe
  for proc in /proc/[0-9]*; do
    exe=$(readlink "$proc/exe" 2>/dev/null) || continue
    exe=${exe% (deleted)}
    case $exe in
      "$binary" | "/tmp/workbook-run.$pid_ns.$1."*) echo "${proc#/proc/}" ;;
    esac
  done
}
killed=0 procs=0 dirs=0 mounts=0
for _ in $(seq "$runs"); do
  "$binary" >/dev/null 2>&1 &
  runner=$!
  sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"  # 0-99 ms: a run takes about 100
  kill -"$signal" "$runner" 2>/dev/null && killed=$((killed + 1))
  wait "$runner" 2>/dev/null || true
  left=$(left_of "$runner")
  if [ -n "$left" ]; then
    procs=$((procs + $(wc -w <<<"$left")))
    kill -KILL $left 2>/dev/null || true  # by PID: this run's only
  fi
  run_dirs="/tmp/workbook-run.$pid_ns.$runner."
  dirs=$((dirs + $(find /tmp -maxdepth 1 -name "${run_dirs#/tmp/}*" | wc -l)))
  mounts=$((mounts + $(grep -c " ${run_dirs}" /proc/self/mountinfo || true)))
done
echo "$package SIG$signal: runs=$runs kills=$killed processes_left=$procs dirs_left=$dirs mounts_left=$mounts"
