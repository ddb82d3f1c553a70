#!/usr/bin/env bash
# Make sure Debian's headless-capable Chromium is installed for the browser tests.
# Playwright drives it with executable_path=/usr/bin/chromium (it cannot download browsers here).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

install() {
    DEBIAN_FRONTEND=noninteractive "$@" apt-get install -y -q --no-install-recommends chromium \
        || { "$@" apt-get update -q && DEBIAN_FRONTEND=noninteractive "$@" apt-get install -y -q --no-install-recommends chromium; }
}

echo "Chromium fehlt – wird aus den Debian-Paketen installiert …"
if [ "$(id -u)" -eq 0 ]; then
    install
elif command -v sudo >/dev/null 2>&1; then
    install sudo
else
    echo "Fehler: /usr/bin/chromium fehlt und es gibt weder root-Rechte noch sudo." >&2
    echo "Bitte 'apt-get install chromium' ausführen (Debian/Ubuntu)." >&2
    exit 1
fi
