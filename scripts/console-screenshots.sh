#!/usr/bin/env bash
# Regenerates the console screenshots shown in docs/console.md from the
# browser tests, so the pictures follow the code. Not a CI step: run it by
# hand after changing the console and commit docs/console/*.png.
#
#   bash scripts/console-screenshots.sh            # runs the browser tests, then copies
#   bash scripts/console-screenshots.sh --copy     # copies what the last run saved
#
# The tests save every screenshot (1280x800 viewport, light and dark) to
# <target>/console-screenshots/; this keeps a curated set, re-encoded
# losslessly with optipng when installed (apt-get install optipng).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
shots="$target/console-screenshots"
out="$root/docs/console"
# name in the tests -> what docs/console.md shows
names=(signin palette-form-invalid dock-approval dock-answer integrations dashboard)

if [ "${1:-}" != "--copy" ]; then
  bash scripts/ci/console.sh >/dev/null
  CI=true cargo test -p toolplane-cli --test console_browser -- --nocapture
fi

mkdir -p "$out"
for n in "${names[@]}"; do
  for scheme in light dark; do
    src="$shots/$n-$scheme.png"
    [ -f "$src" ] || { echo "missing $src: run without --copy" >&2; exit 1; }
    cp "$src" "$out/$n-$scheme.png"
  done
done
if command -v optipng >/dev/null 2>&1; then
  optipng -quiet -o2 -strip all "$out"/*.png
else
  echo "optipng not installed: the PNGs are copied as the browser wrote them" >&2
fi
du -ch "$out"/*.png | tail -n 1
