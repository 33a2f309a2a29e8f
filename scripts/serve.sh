#!/usr/bin/env bash
# Sets up everything (tools, model), builds the app and serves it at http://127.0.0.1:8080.
set -euo pipefail
source "$(dirname "$0")/env.sh"

bash scripts/web-tools.sh
bash models/setup.sh
echo "Building bgone; it will be served at http://127.0.0.1:8080"
exec trunk serve --release --address 127.0.0.1 --port 8080
