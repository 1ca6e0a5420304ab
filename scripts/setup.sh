#!/usr/bin/env bash
# Idempotent set-up for Quayside on Debian 12: system packages, a venv that
# sees Debian's QGIS/numpy/scipy/rasterio/shapely, and a private QGIS profile
# (./.qgis) with the plugin linked in as "quayside" and enabled.
# Quick when everything is already in place.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

APT_PACKAGES=(qgis python3-qgis qgis-providers python3-gdal python3-rasterio python3-scipy python3-shapely
              python3-numpy python3-matplotlib python3-venv python3-pip xvfb xauth poppler-utils otb-bin)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv (with Debian's site packages) from /usr/bin/python3"
    /usr/bin/python3 -m venv --system-site-packages .venv
fi
if [ ! -f .venv/.requirements-dev.stamp ] || [ requirements-dev.txt -nt .venv/.requirements-dev.stamp ]; then
    echo "setup: installing test and lint tools into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
    cp requirements-dev.txt .venv/.requirements-dev.stamp
fi

# A private QGIS profile with the checkout linked in as the "quayside" plugin,
# whatever the checkout folder is called.
plugins=.qgis/profiles/default/python/plugins
mkdir -p "$plugins" .qgis/profiles/default/QGIS
if [ "$(readlink "$plugins/quayside" 2>/dev/null)" != "$root" ]; then
    ln -sfn "$root" "$plugins/quayside"
fi
ini=.qgis/profiles/default/QGIS/QGIS3.ini
if ! grep -qs '^quayside=true' "$ini"; then
    echo "setup: enabling the quayside plugin for qgis_process"
    scripts/qgis_process plugins enable quayside >/dev/null 2>&1 || true
    if ! grep -qs '^quayside=true' "$ini"; then
        # older qgis_process without "plugins enable": write the setting ourselves
        .venv/bin/python scripts/enable_plugin.py "$ini"
    fi
fi
