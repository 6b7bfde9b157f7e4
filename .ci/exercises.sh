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
catalog=$(cargo run -q --locked -p workbook-tool -- dev list)
packages=$(printf '%s\n' "$catalog" | cut -f2)
[ -n "$packages" ] || { echo "no exercises in exercises/exercises.toml"; exit 1; }
solutions=() exercises=()
for package in $packages; do
  solutions+=(-p "$package-solution")
  exercises+=(-p "$package")
done

step "the stubs are what the solutions give"
cargo run -q --locked -p workbook-tool -- dev generate --check

results=$(mktemp)
trap 'rm -f "$results"' EXIT

step "every solution passes"
WORKBOOK_RESULTS="$results" cargo test -q --locked "${solutions[@]}"
# And every exercise's checks ran: a test binary that runs no case passes too.
for id in $(printf '%s\n' "$catalog" | cut -f1); do
  if ! awk -F '\t' -v id="$id" '$1 == id && $4 == "pass" { found = 1 } END { exit !found }' "$results"; then
    echo "FAIL $id: its solution's checks reported no passing case"
    exit 1
  fi
done

step "every exercise, as shipped, builds and fails on its todo!()s"
cargo build -q --locked --tests "${exercises[@]}"
# Verdicts come from the harness's results file (one line per case:
# exercise, case, user, pass|fail|skip, sentence), not from its text.
failed=0
for package in $packages; do
  : >"$results"
  if out=$(WORKBOOK_RESULTS="$results" cargo test -q --locked -p "$package" 2>&1); then
    echo "FAIL $package: passes as shipped (an exercise must fail until it is solved)"
    failed=1
    continue
  fi
  read -r cases fails todo < <(awk -F '\t' '
    { cases++ }
    $4 == "fail" { fails++ }
    $4 == "fail" && $5 ~ /^still todo!\(\) at / { todo++ }
    END { print cases + 0, fails + 0, todo + 0 }' "$results")
  if [ "$cases" -eq 0 ] || [ "$fails" -eq 0 ] || [ "$todo" -ne "$fails" ]; then
    echo "FAIL $package: expected every failing case to fail on a todo!(), got $todo of $fails:"
    cat "$results"
    printf '%s\n' "$out" | tail -40
    failed=1
    continue
  fi
  echo "ok   $package: $cases cases, $fails failing; all $fails failures are todo!()s"
done
exit "$failed"
