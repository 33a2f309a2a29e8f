#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, sets up the model, makes the
# onnxruntime reference, then runs every test including the slow ones.
#   bash tests/run.sh           everything (what CI runs)
#   bash tests/run.sh --quick   skip the tests marked slow (full network passes)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export BGONE_CACHE=${BGONE_CACHE:-$HOME/.cache/bgone}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BGONE_CACHE/target}
quick=0; [ "${1:-}" = "--quick" ] && quick=1

bash scripts/system-deps.sh
bash models/setup.sh
bash tests/reference/generate.sh

slow=(--include-ignored); [ $quick = 1 ] && slow=()
cargo test --release -p bgone-core -p bgone-cli --features bgone-core/wgpu -- "${slow[@]}"
