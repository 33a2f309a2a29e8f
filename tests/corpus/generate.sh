#!/usr/bin/env bash
# Writes the bad-input corpus to $BGONE_CACHE/corpus (see generate.py).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/models/python-env.sh"
rm -rf "$bgone_cache/corpus"
exec python "$root/tests/corpus/generate.py" "$bgone_cache/corpus"
