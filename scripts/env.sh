# Sourced by the top-level scripts: run from the repository root, with every cache outside the
# clone (BGONE_CACHE, default ~/.cache/bgone) and the installed tools on PATH.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export BGONE_CACHE=${BGONE_CACHE:-$HOME/.cache/bgone}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BGONE_CACHE/target}
export PATH="$BGONE_CACHE/tools/bin:$PATH"
