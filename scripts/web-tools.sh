#!/usr/bin/env bash
# Installs the web build tools into $BGONE_CACHE/tools (once): the wasm32 target, Trunk, the
# wasm-bindgen CLI at exactly the version in Cargo.lock, and geckodriver for the Firefox test. All
# from the Rust registry.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export BGONE_CACHE=${BGONE_CACHE:-$HOME/.cache/bgone}
tools="$BGONE_CACHE/tools"
export PATH="$tools/bin:$PATH"

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# The std sources, for the threaded CPU worker's -Z build-std (scripts/build-cpu-worker.sh).
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src || echo "rust-src unavailable: the app is built without the threaded CPU worker"
if ! trunk --version 2>/dev/null | grep -q "0.22.1"; then
  echo "Installing trunk 0.22.1 (a few minutes, once) ..."
  # --debug: a build tool needs no optimisation, and the release build takes 15+ minutes here.
  # No debug info either: nothing debugs it. (It cannot be built without TLS: Trunk insists on
  # one of its TLS features.)
  CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR="$BGONE_CACHE/tools-target" cargo install trunk --version 0.22.1 --locked \
    --ignore-rust-version --debug --root "$tools" --quiet
fi
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$root/Cargo.lock")
if ! wasm-bindgen --version 2>/dev/null | grep -q "$bindgen_version"; then
  echo "Installing wasm-bindgen-cli $bindgen_version (once) ..."
  # Without --locked: its lockfile pins a crate version this registry does not have. At opt-level
  # 1 it compiles faster and still takes seconds on the 32 MB worker (debug: minutes).
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_TARGET_DIR="$BGONE_CACHE/tools-target" cargo install wasm-bindgen-cli --version "$bindgen_version" \
    --root "$tools" --quiet
fi
if ! geckodriver --version 2>/dev/null | grep -q "0.37.1"; then
  echo "Installing geckodriver 0.37.1 (once) ..."
  # --debug as for Trunk: it only relays a few WebDriver calls. On a new 2-core Zen 3 VM the
  # release build took 5.5 minutes beside the native tests' build; the debug one takes 1.4
  # minutes on the two cores alone.
  CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR="$BGONE_CACHE/tools-target" cargo install geckodriver --version 0.37.1 --locked \
    --debug --root "$tools" --quiet
fi
