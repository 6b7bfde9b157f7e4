#!/usr/bin/env bash
# The exercises' proof, for CI (called from .ci/run; runs alone too, as root
# with CI=true so that no case may be skipped):
#   1. the committed stubs are what the solutions give (`dev generate --check`);
#   2. every solution passes its exercise's checks;
#   3. every exercise, as shipped, builds and FAILS those checks, and every
#      failing case fails on a todo!() of the stub: not on a compile error, a
#      crash of the checks, or anything else. An exercise that passes
#      untouched is a bug.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"
export CARGO_TERM_COLOR=never RUST_BACKTRACE=0

step() { printf '\n== %s\n' "$*"; }

# The catalog's one parser (tool/src/catalog.rs) lists the packages.
packages=$(cargo run -q --locked -p workbook-tool -- dev list | cut -f2)
[ -n "$packages" ] || { echo "no exercises in exercises/exercises.toml"; exit 1; }
solutions=() exercises=()
for package in $packages; do
  solutions+=(-p "$package-solution")
  exercises+=(-p "$package")
done

step "the stubs are what the solutions give"
cargo run -q --locked -p workbook-tool -- dev generate --check

step "every solution passes"
cargo test -q --locked "${solutions[@]}"

step "every exercise, as shipped, builds and fails on its todo!()s"
cargo build -q --locked --tests "${exercises[@]}"
failed=0
for package in $packages; do
  if out=$(cargo test -q --locked -p "$package" 2>&1); then
    echo "FAIL $package: passes as shipped (an exercise must fail until it is solved)"
    failed=1
    continue
  fi
  cases=$(grep -c '^---- ' <<<"$out" || true)
  # The sentence under each `---- case ----` header.
  todo=$(grep -A1 '^---- ' <<<"$out" | grep -c '^still todo!() at ' || true)
  summary=$(grep '^test result: ' <<<"$out" || true)
  if [ "$cases" -eq 0 ] || [ "$todo" -ne "$cases" ] || [ -z "$summary" ]; then
    echo "FAIL $package: expected every case to fail on a todo!(), got $todo of $cases:"
    printf '%s\n' "$out" | tail -40
    failed=1
    continue
  fi
  echo "ok   $package: ${summary#test result: }; all $cases failures are todo!()s"
done
exit "$failed"
