#!/usr/bin/env bash
# Trunk's post_build hook (Trunk.toml). One hook, so the steps run in order: Trunk starts the
# hooks of a stage together, and the offline shell list must include the threaded worker's files.
set -euo pipefail
bash scripts/build-cpu-worker.sh
node scripts/stamp-offline.mjs
