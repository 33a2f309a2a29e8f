#!/usr/bin/env bash
# Fuzzes decode → preprocess → network (tiny, random) → compose → encode for a bounded time.
#   bash tests/fuzz/run.sh [seconds]     default 120 (FUZZ_SECONDS)
# Seeds: the bad-input corpus, the test photos' headers and every earlier finding (kept under
# $BGONE_CACHE/fuzz-corpus, so runs build on each other). A crash is saved to
# tests/fuzz/regressions/, where crates/core/tests/fuzz_regressions.rs replays it from then on:
# commit it with the fix.
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
seconds=${1:-${FUZZ_SECONDS:-120}}

if ! command -v cargo-fuzz >/dev/null; then
  CARGO_PROFILE_DEV_DEBUG=0 cargo install cargo-fuzz --version 0.13.2 --locked --debug --root "$BGONE_CACHE/tools"
fi
# cargo-fuzz's coverage flags are stable rustc flags; without a sanitizer it needs no nightly.
export CARGO_TARGET_DIR="$BGONE_CACHE/target-fuzz"
cargo fuzz build --fuzz-dir tests/fuzz --sanitizer none pipeline

corpus="$BGONE_CACHE/fuzz-corpus"
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$corpus"
find "$BGONE_CACHE/corpus" -type f ! -name '*.json' -exec cp {} "$seeds/" \;
for photo in tests/fixtures/photos/*.png tests/fixtures/photos/*.jpg; do
  head -c 4096 "$photo" > "$seeds/head-$(basename "$photo")"   # headers and the first rows
done
cargo fuzz run --fuzz-dir tests/fuzz --sanitizer none pipeline "$corpus" "$seeds" -- \
  -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
  -artifact_prefix=tests/fuzz/regressions/ -print_final_stats=1
