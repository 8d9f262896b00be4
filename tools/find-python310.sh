#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter: $PYTHON, python3.10 on PATH, or pyenv's.
# Lava 0.10.0 (the last release) installs only on 3.10, so the dev/CI venv is 3.10.
want="${1:-3.10}"
try() { [ -n "$1" ] && "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" 2>/dev/null && { command -v "$1" || echo "$1"; exit 0; }; }
try "$PYTHON"
try "python$want"
if command -v pyenv >/dev/null 2>&1; then
  for p in "$(pyenv root)"/versions/"$want"*/bin/python"$want"; do try "$p"; done
fi
for p in "$HOME"/.pyenv/versions/"$want"*/bin/python"$want" /usr/bin/python"$want" /usr/local/bin/python"$want"; do try "$p"; done
echo "error: no Python $want found. Install it (e.g. 'pyenv install $want' or 'apt-get install python$want python$want-venv') or set PYTHON=/path/to/python$want" >&2
exit 1
