#!/usr/bin/env bash
# Installs Debian's chromium (headless browser for the docs-site test) when /usr/bin/chromium is
# missing. Idempotent and instant when it is present; called by `make setup`.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: $CHROMIUM is missing and this system has no apt-get;" \
        "install a Chromium build at $CHROMIUM by hand (the docs-site browser test needs it)." >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "install_browser: $CHROMIUM is missing and installing it needs root:" \
        "run 'sudo apt-get install -y --no-install-recommends chromium'" \
        "(the docs-site browser test fails without it)." >&2
    exit 1
fi

echo "install_browser: installing Debian's chromium package (headless browser for tests)"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update first (only reached when missing).
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null

if [ ! -x "$CHROMIUM" ]; then
    echo "install_browser: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "install_browser: $("$CHROMIUM" --version 2>/dev/null)"
