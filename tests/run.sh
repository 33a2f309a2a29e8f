#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, sets up the model, makes the
# onnxruntime reference, builds the web app, then runs every test including the slow ones.
#   bash tests/run.sh           everything (what CI runs)
#   bash tests/run.sh --quick   skip the tests marked slow (full network passes) and the browser
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
quick=0; [ "${1:-}" = "--quick" ] && quick=1
step() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "system packages"
BGONE_NEED_BROWSER=$((1 - quick)) bash scripts/system-deps.sh
step "formatting (rustfmt.toml)"
if cargo fmt --version > /dev/null 2>&1; then cargo fmt --all --check; else echo "rustfmt is not installed: formatting not checked"; fi
if [ $quick = 0 ]; then
  step "web build tools (in the background)"
  # trunk, wasm-bindgen-cli and rust-src need no model: on a new machine they compile (minutes)
  # while the model and the references are set up, which is mostly downloading.
  mkdir -p "$BGONE_CACHE"
  bash scripts/web-tools.sh > "$BGONE_CACHE/web-tools.log" 2>&1 &
  tools=$!
fi
step "model"
bash models/setup.sh
step "onnxruntime reference"
bash tests/reference/generate.sh
step "bad-input corpus"
bash tests/corpus/generate.sh

step "native tests"
slow=(--include-ignored); [ $quick = 1 ] && slow=()
# The native-tests profile: release, with Burn's GPU stack less optimised (Cargo.toml).
cargo test --profile native-tests -p bgone-core -p bgone-cli --features bgone-core/wgpu -- "${slow[@]}"
[ $quick = 1 ] && exit 0

step "fuzzing (decode -> network -> compose -> encode, ${FUZZ_SECONDS:-120} s)"
bash tests/fuzz/run.sh

step "web app build"
wait $tools || { cat "$BGONE_CACHE/web-tools.log"; echo "installing the web build tools failed" >&2; exit 1; }
cargo fetch --quiet
trunk build --release

step "browser glue unit tests (wasm-bindgen-test in Chromium)"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --target wasm32-unknown-unknown -p bgone-web --test browser_glue

step "browser tests"
(cd tests && npm ci --no-audit --no-fund --silent)
export BGONE_BIN="$CARGO_TARGET_DIR/native-tests/bgone"
# Playwright's offline emulation then also covers the service worker's own fetches.
export PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS=1
(cd tests && node --test --test-concurrency=1 web/)
step "all tests passed"
