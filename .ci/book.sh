#!/usr/bin/env bash
# The book: build book/ with the pinned mdBook, warnings as errors, then check
# every internal link and #anchor of the rendered HTML. .ci/run calls it; it
# also runs on its own: `bash .ci/book.sh`. Output: book/build/.
# (The fast checks, includes, anchors and output blocks, run in `cargo test`:
# testkit/tests/book.rs.)
set -euo pipefail
cd "$(dirname "$0")/.."

# The hand-drawn diagrams are what book/diagrams.py draws: run it, and the
# committed SVGs must not change (a conflict or an edit of an SVG by hand
# would show here).
python3 book/diagrams.py
if ! git diff --exit-code --stat -- book/src/images; then
  echo "book/diagrams.py draws something else than the committed SVGs: run it and commit"
  exit 1
fi

MDBOOK_VERSION=0.5.4
CARGO_ROOT="${CARGO_HOME:-$HOME/.cargo}"

# An mdbook of exactly the pinned version: the one on PATH, or cargo's.
mdbook=""
for candidate in "$(command -v mdbook || true)" "$CARGO_ROOT/bin/mdbook"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] &&
     [ "$("$candidate" --version 2>/dev/null)" = "mdbook v$MDBOOK_VERSION" ]; then
    mdbook="$candidate"
    break
  fi
done
if [ -z "$mdbook" ]; then
  echo "installing mdbook $MDBOOK_VERSION with cargo install --locked (about a minute)"
  cargo install --locked mdbook --version "$MDBOOK_VERSION" \
    --no-default-features --features search --force --root "$CARGO_ROOT"
  mdbook="$CARGO_ROOT/bin/mdbook"
fi
"$mdbook" --version

# mdBook logs to stderr: INFO lines, and WARN/ERROR for what it could not
# render as written (an unclosed HTML tag, a bad include...). Any WARN or
# ERROR fails the build, as does a non-zero exit. MDBOOK_LOG is unset so the
# default level (info) applies and no setting can hide a warning.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
env -u MDBOOK_LOG NO_COLOR=1 "$mdbook" build book 2>"$log" || status=$?
cat "$log" >&2
if [ "$status" -ne 0 ]; then
  echo "mdbook build failed (exit $status)"
  exit 1
fi
if grep -qE '^[[:space:]]*(WARN|ERROR)([[:space:]]|$)' "$log"; then
  echo "mdbook build printed warnings or errors (above): fix them, they fail CI"
  exit 1
fi

python3 .ci/check_links.py book/build
