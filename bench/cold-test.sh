#!/usr/bin/env bash
# What a learner waits the first time: `cargo test`, as the README says it,
# in a fresh clone, timed from the command to its end. Target: under 45 s
# on a 2-core machine, with the crates already downloaded.
#
# Included: resolving and unpacking the dependencies, compiling everything
# (nothing is shared with another checkout: the clone's own target/, no
# CARGO_TARGET_DIR, no sccache or other RUSTC_WRAPPER, cargo's default
# incremental setting), and running every test.
# Not included: `git clone` itself, installing Rust.
#
# Two figures:
#   warm registry: the crates are in ~/.cargo/registry already (a learner
#     who has built another project with them, or who ran it once);
#   cold registry (`--cold`, also measured): a fresh CARGO_HOME, so the
#     index is queried and every crate downloaded inside the timing, as for
#     a learner with a new Rust install. Needs crates.io.
# The machine's load is printed too: other builds running at the same time
# slow both wall-clock figures; the CPU seconds (user + system, all
# processes) move much less, and compare two commits on a busy machine.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cold=false
[ "${1:-}" = "--cold" ] && cold=true
dir=$(mktemp -d /tmp/workbook-cold.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cargo=$(command -v cargo)
TIMEFORMAT='%U %S'

# What would make the build faster than a learner's: a shared or warm
# target directory, a compiler cache, settings from this shell.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER \
  RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER CARGO_INCREMENTAL \
  CARGO_BUILD_JOBS RUSTFLAGS CARGO_ENCODED_RUSTFLAGS SCCACHE_DIR

# One fresh clone, timed `cargo test` in it; prints the figure.
measure() {
  local label=$1 clone="$dir/clone-$1"
  git clone --quiet "$src" "$clone"
  git -C "$clone" checkout --quiet "$(git -C "$src" rev-parse HEAD)"
  local start end cpu rc=0
  start=$(date +%s.%N)
  # bash's `time` of the subshell: its children's user and system CPU.
  cpu=$( { time (cd "$clone" && "$cargo" test >"$dir/$label.log" 2>&1); } 2>&1 ) ||
    rc=$?
  end=$(date +%s.%N)
  grep -E '^test result' "$dir/$label.log" |
    awk -v l="$label" '{p+=$4; f+=$6; i+=$8} END {printf "%s: %d passed, %d failed, %d ignored\n", l, p, f, i}'
  python3 -c "u, s = map(float, '$cpu'.split()); print(f'first cargo test, $label registry: {$end - $start:.1f} s on $(nproc) cores, {u + s:.0f} s of CPU (load before: $2)')"
  if [ "$rc" -ne 0 ]; then
    # Still a figure, but say so: cargo stops at the first failing test binary.
    grep -E '^(---- |error: test failed)' "$dir/$label.log" | head -10
    echo "cargo test exited $rc in the $label clone: the figure stops at that failure"
    failed=1
  fi
  rm -rf "$clone"
}
failed=0

load() { cut -d' ' -f1-3 /proc/loadavg; }

# Warm: the crates this commit's Cargo.lock names are downloaded first,
# outside the timing (a no-op when they are there already).
(cd "$src" && "$cargo" fetch --locked --quiet)
measure warm "$(load)"
if $cold; then
  CARGO_HOME="$dir/cargo-home" measure cold "$(load)"
fi
exit "$failed"
