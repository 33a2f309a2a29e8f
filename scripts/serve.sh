#!/usr/bin/env bash
# Sets up everything (tools, model), builds the app and serves it at http://127.0.0.1:8080.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export BGONE_CACHE=${BGONE_CACHE:-$HOME/.cache/bgone}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BGONE_CACHE/target}
export PATH="$BGONE_CACHE/tools/bin:$PATH"

bash scripts/web-tools.sh
bash models/setup.sh
echo "Building bgone; it will be served at http://127.0.0.1:8080"
exec trunk serve --release --address 127.0.0.1 --port 8080
