#!/usr/bin/env bash
# Screenshot of the real QGIS desktop under Xvfb with the plugin enabled and
# a project open: scripts/screenshot.sh PROJECT.qgz OUT.png [extra python]
# For OUT = .../screenshot.png it also takes screenshot_swipe.png (the compare
# tool swiping the pair) and screenshot_pier_form.png (the pier form) beside it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
project=$(realpath "$1")
out=$(realpath -m "$2")
mkdir -p "$(dirname "$out")"
export QGIS_CUSTOM_CONFIG_PATH="$root/.qgis"
export QUAYSIDE_SHOT_PROJECT="$project" QUAYSIDE_SHOT_OUT="$out" QUAYSIDE_SHOT_EXTRA="${3:-}"
unset QT_QPA_PLATFORM
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/quayside-runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
# qgis.bin directly: the Debian wrapper adds options from /etc/default/qgis.
bin=/usr/bin/qgis.bin; [ -x "$bin" ] || bin=qgis

shoot() {  # shoot MODE OUT
    local mode=$1 png=$2
    rm -f "$png"
    QUAYSIDE_SHOT_MODE="$mode" QUAYSIDE_SHOT_OUT="$png" timeout 240 xvfb-run -a -s "-screen 0 1680x1050x24" \
        "$bin" --nologo --noversioncheck --code "$root/scripts/screenshot_inside_qgis.py" \
        >"${png%.png}.log" 2>&1 || true
    if [ ! -s "$png" ]; then
        echo "screenshot failed; see ${png%.png}.log" >&2
        tail -20 "${png%.png}.log" >&2
        return 1
    fi
    echo "wrote $png"
}

shoot dock "$out"
if [ "$(basename "$out")" = "screenshot.png" ]; then
    shoot swipe "$(dirname "$out")/screenshot_swipe.png"
    shoot pier "$(dirname "$out")/screenshot_pier_form.png"
fi
