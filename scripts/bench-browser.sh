#!/usr/bin/env bash
# Times the built app against @imgly/background-removal 1.7.0 in headless Chromium and prints a
# Markdown table (tests/bench/bench.mjs). It does not build bgone: it benchmarks dist/ as it is.
#   bash scripts/bench-browser.sh [--runs N] [--returns N] [--photos a.png,b.jpg] [--engines cpu,webgpu]
#   BGONE_DIST=path (the built app), BENCH_RUNS=N, BENCH_RETURNS=N, BENCH_OUT=results.json
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${BGONE_DIST:-dist}
if [ ! -f "$dist/index.html" ] || [ ! -f "$dist/models/isnet-medium.safetensors" ]; then
  echo "No built app in $dist: run \`bash scripts/serve.sh\` or \`trunk build --release\` first." >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "No Chromium at ${CHROMIUM:-/usr/bin/chromium}: run \`BGONE_NEED_BROWSER=1 bash scripts/system-deps.sh\`." >&2
  exit 1
fi

# npm ci only when the lockfile changed since the last install (the peer's data is 350 MB).
install() {
  if ! cmp -s "$1/package-lock.json" "$1/node_modules/.installed-lock"; then
    echo "Installing $1's npm packages ..."
    (cd "$1" && npm ci --no-audit --no-fund --silent)
    cp "$1/package-lock.json" "$1/node_modules/.installed-lock"
  fi
}
# tests/web/harness.mjs (reused here) needs the browser tests' playwright-core and pngjs; those
# may be in use by a test run, so they are installed only when missing.
[ -d tests/node_modules/playwright-core ] || (cd tests && npm ci --no-audit --no-fund --silent)
install tests/bench    # the peer, its model and onnxruntime-web, esbuild

node tests/bench/build-peer.mjs
BGONE_DIST="$(cd "$dist" && pwd)" exec node tests/bench/bench.mjs "$@"
