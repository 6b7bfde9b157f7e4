#!/usr/bin/env bash
# Proof that `cargo test-root` (the alias in .cargo/config.toml) does what
# the README promises, as a learner would meet it: run as uid 65534 with a
# sudo that lets that user in, it builds as the learner, runs the test
# binaries as root, and leaves no root-owned file in target/, so that a
# plain `cargo test` afterwards still builds.
#
# Needs root, sudo, setpriv and unshare. It changes nothing on the host: the
# sudoers rule for 65534 and the toolchain's bind mount exist only in a
# private mount namespace of this script, and its directory under $TMPDIR
# is removed at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "error: run as root (it sets up a user to test with)"; exit 1; }
for tool in sudo setpriv unshare rustc; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found; install it"; exit 1; }
done
toolchain=$(rustc --print sysroot)
work=$(mktemp -d "${TMPDIR:-/tmp}/workbook-root-cases.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# A crate of one test that says which uid ran it.
mkdir -p "$work/ws/.cargo" "$work/ws/tests" "$work/ws/src" "$work/toolchain" "$work/home"
cp "$repo/.cargo/config.toml" "$work/ws/.cargo/config.toml"
cat >"$work/ws/Cargo.toml" <<'TOML'
[package]
name = "root-cases-proof"
version = "0.1.0"
edition = "2021"
TOML
: >"$work/ws/src/lib.rs"
cat >"$work/ws/tests/uid.rs" <<'RUST'
#[test]
fn says_its_uid() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let euid = uid.split_whitespace().nth(2).unwrap();
    println!("test binary ran as euid {euid}");
}
RUST
printf 'nobody ALL=(root) NOPASSWD:SETENV: ALL\n' >"$work/sudoers"
chmod 0440 "$work/sudoers"
chown -R 65534:65534 "$work/ws" "$work/home"

unshare --mount --propagation private bash -s "$work" "$toolchain" <<'INNER'
set -euo pipefail
work=$1 toolchain=$2
mount --bind "$work/sudoers" /etc/sudoers
mount --bind -o ro "$toolchain" "$work/toolchain"
as_learner() {
  (cd "$work/ws" && setpriv --reuid 65534 --regid 65534 --clear-groups \
    env -i HOME="$work/home" CARGO_HOME="$work/home/.cargo" \
      PATH="$work/toolchain/bin:/usr/bin:/bin" "$@")
}
out=$(as_learner cargo test-root --offline -- --nocapture 2>&1) || { echo "$out"; exit 1; }
grep -q 'test binary ran as euid 0$' <<<"$out" || { echo "FAIL: cargo test-root did not run the test as root:"; echo "$out"; exit 1; }
echo "ok   cargo test-root, typed by uid 65534, ran the test binary as root"
rootfiles=$(find "$work/ws" -uid 0)
[ -z "$rootfiles" ] || { echo "FAIL: root-owned files after cargo test-root:"; echo "$rootfiles"; exit 1; }
echo "ok   no root-owned file in the crate or its target/"
touch "$work/ws/src/lib.rs"
out=$(as_learner cargo test --offline -- --nocapture 2>&1) || { echo "FAIL: plain cargo test after it:"; echo "$out"; exit 1; }
grep -q 'test binary ran as euid 65534$' <<<"$out" || { echo "$out"; exit 1; }
echo "ok   a plain cargo test afterwards builds and runs as uid 65534"
INNER
