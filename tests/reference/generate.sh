#!/usr/bin/env bash
# Makes (or refreshes) the onnxruntime reference masks the parity tests compare against.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/models/python-env.sh"
exec python "$root/tests/reference/generate_reference.py" \
  --onnx "$bgone_cache/models/isnet-medium-fp32.onnx" \
  --manifest "$root/models/generated/isnet-medium.json" \
  --photos "$root/tests/fixtures/photos" \
  --out "$bgone_cache/reference" "$@"
