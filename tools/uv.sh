#!/usr/bin/env bash
# Runs the pinned uv, installing it first when missing: with pip into the current Python
# (so `uv` is on PATH afterwards), or, where that Python refuses packages, into .tools/uv.
set -euo pipefail
UV_VERSION=0.13.8
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if command -v uv >/dev/null 2>&1; then
    exec uv "$@"
fi
if [ -x "$here/.tools/uv/bin/uv" ]; then
    exec "$here/.tools/uv/bin/uv" "$@"
fi
echo "installing uv $UV_VERSION" >&2
if python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" 2>/dev/null; then
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    if command -v uv >/dev/null 2>&1; then
        exec uv "$@"
    fi
fi
python3 -m pip install --quiet --disable-pip-version-check --target "$here/.tools/uv" "uv==$UV_VERSION"
exec "$here/.tools/uv/bin/uv" "$@"
