#!/usr/bin/env bash
# Cold `cargo test` in a fresh clone: the time a learner waits the first
# time (crates already downloaded; nothing compiled). Target: under 60 s on a
# 2-core machine.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/workbook-cold.XXXXXX)
trap 'rm -rf "$dir"' EXIT
git clone --quiet "$src" "$dir/clone"
cd "$dir/clone"
cargo fetch --quiet
start=$(date +%s.%N)
cargo test --quiet >"$dir/log" 2>&1 || { cat "$dir/log"; exit 1; }
end=$(date +%s.%N)
grep -E '^test result' "$dir/log" | awk '{p+=$4; f+=$6} END {print p " passed, " f " failed"}'
python3 -c "print(f'cold cargo test: {$end - $start:.1f} s on $(nproc) cores')"
