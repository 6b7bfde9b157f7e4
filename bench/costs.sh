#!/usr/bin/env bash
# What each namespace operation costs: the table of the book's appendix
# (book/src/appendix-costs.md). Builds bench-ns-costs (bench/ns-costs) in
# release mode and prints its Markdown table; the progress goes to stderr.
#
#   sudo bash bench/costs.sh > costs.md     # as root: both halves
#   RUNS=400 bash bench/costs.sh            # as another user: rootless half
#
# As root it measures twice: as root, then in a forked child that becomes
# uid 65534 and enters a user namespace of its own (the learner's rootless
# path). As another user, only the second half. RUNS is the number of fresh
# processes per cell (default 200; a p99 needs 100 or more). Needs
# util-linux unshare(1), and Linux 6.18 or newer for the teardown columns
# (nsfs file handles). It changes nothing on the host: every namespace is
# made in a child that exits, and a child dies with its parent.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p bench-ns-costs
exec target/release/bench-ns-costs --runs "${RUNS:-200}" --markdown "$@"
