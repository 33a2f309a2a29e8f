#!/usr/bin/env bash
# Installs what the build and the tests need from Debian, the Rust registry and npm, once.
# Everything lands outside the clone (in $BGONE_CACHE, default ~/.cache/bgone) so later runs are warm.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export BGONE_CACHE=${BGONE_CACHE:-$HOME/.cache/bgone}

apt_packages=(mesa-vulkan-drivers)   # lavapipe: a Vulkan device on the CPU for the wgpu tests
# The browsers of the browser tests: Chromium, and Firefox ESR (a second engine, without relaxed
# SIMD; tests/web/firefox.test.mjs), driven by geckodriver (scripts/web-tools.sh).
[ "${BGONE_NEED_BROWSER:-0}" = 1 ] && apt_packages+=(chromium chromium-driver firefox-esr)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian ..."
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
