#!/usr/bin/env bash
# Each example's wall time next to util-linux (unshare, nsenter, hostname,
# mount) doing the same steps. Target: a Rust example costs at most 1.5x
# the C tools. Run as root: `sudo bash bench/compare.sh`.
# Needs hyperfine (apt-get install hyperfine). Output: a table, and
# bench/results.json with every measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "install hyperfine first (apt-get install hyperfine)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root: the util-linux side needs it"; exit 1; }

packages=$(for d in chapters/*/; do printf -- '-p %s ' "$(basename "$d")"; done)
# shellcheck disable=SC2086
cargo build --release --quiet $packages
bin=target/release
runs=${RUNS:-100}
out=$(mktemp -d /tmp/workbook-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT

# name | Rust example | the same steps with util-linux and the shell
cases=(
  "ch01|$bin/ch01-what-is-a-namespace|readlink /proc/self/ns/* && sh -c 'readlink /proc/self/ns/*'"
  "ch02|$bin/ch02-unshare|d=\$(mktemp -d /tmp/bench.XXXXXX); unshare --mount --uts sh -c \"mount --make-rprivate / && mount -t tmpfs tmpfs \$d && touch \$d/f && hostname ch02-uts && hostname && umount \$d\"; test ! -e \$d/f; hostname; rmdir \$d"
  "ch03|$bin/ch03-clone-uts|unshare --uts sh -c 'hostname ernie && uname -n' && uname -n"
  "ch03 --libc|$bin/ch03-clone-uts --libc|unshare --uts sh -c 'hostname ernie && uname -n' && uname -n"
  "ch04|$bin/ch04-join-proc|unshare --uts --fork sh -c 'hostname ch04-target && nsenter --target \$\$ --uts hostname'"
  "ch05|$bin/ch05-join-pidfd|unshare --uts --net --fork sh -c 'hostname ch05-target && nsenter --target \$\$ --uts --net hostname'"
  "ch06|$bin/ch06-persist-bind-mount|unshare --mount sh -c 'mount --make-rprivate / && d=\$(mktemp -d /tmp/bench.XXXXXX) && touch \$d/uts && unshare --uts=\$d/uts hostname ch06-persisted && nsenter --uts=\$d/uts hostname && umount \$d/uts && rm -r \$d'"
)

printf '| example | Rust (ms) | util-linux (ms) | ratio |\n|---|---|---|---|\n'
for case in "${cases[@]}"; do
  IFS='|' read -r name rust tools <<<"$case"
  hyperfine --style none --warmup 5 --runs "$runs" -N --export-json "$out/rust.json" "$rust" >/dev/null 2>&1
  hyperfine --style none --warmup 5 --runs "$runs" --shell=bash --export-json "$out/tools.json" "$tools" >/dev/null 2>&1
  python3 - "$name" "$out/rust.json" "$out/tools.json" <<'PY'
import json, sys
name, rust, tools = sys.argv[1], *(json.load(open(p))["results"][0] for p in sys.argv[2:])
r, t = rust["mean"] * 1e3, tools["mean"] * 1e3
print(f"| {name} | {r:.2f} ± {rust['stddev']*1e3:.2f} | {t:.2f} ± {tools['stddev']*1e3:.2f} | {r/t:.2f}x |")
PY
done
echo
echo "Rust: release build, stdout to /dev/null; util-linux $(unshare --version | awk '{print $NF}'), through bash (hyperfine subtracts the shell's start-up)."
