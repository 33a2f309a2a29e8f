# Sourced by scripts that need Python: makes (once) and activates a virtual environment in the
# cache with the pinned packages of models/requirements.txt, all from PyPI.
bgone_cache=${BGONE_CACHE:-$HOME/.cache/bgone}
bgone_venv="$bgone_cache/venv"
bgone_requirements="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements.txt"
if [ ! -x "$bgone_venv/bin/python" ]; then
  python3 -m venv "$bgone_venv"
fi
if ! cmp -s "$bgone_requirements" "$bgone_venv/requirements.txt"; then
  "$bgone_venv/bin/pip" install --quiet --disable-pip-version-check -r "$bgone_requirements"
  cp "$bgone_requirements" "$bgone_venv/requirements.txt"
fi
export PATH="$bgone_venv/bin:$PATH"
