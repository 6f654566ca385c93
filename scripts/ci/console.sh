#!/usr/bin/env bash
# Installs what the console's browser tests need: Debian's chromium (apt, if
# missing) and the pinned npm packages playwright-core (drives chromium over
# CDP; it downloads no browser of its own) and axe-core (accessibility rules,
# injected into the page) into $cache/console-node. Idempotent; safe to run by
# hand. Prints the node_modules folder last.
set -euo pipefail
cache=${TOOLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolplane}
dir="$cache/console-node"
PLAYWRIGHT_CORE=1.65.1
AXE_CORE=4.14.1
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
have() { [ -f "$dir/node_modules/$1/package.json" ] && grep -q "\"version\": \"$2\"" "$dir/node_modules/$1/package.json"; }
if ! have playwright-core "$PLAYWRIGHT_CORE" || ! have axe-core "$AXE_CORE"; then
  mkdir -p "$dir"
  # playwright-core never downloads a browser by itself; the tests point it at /usr/bin/chromium.
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --no-save \
    "playwright-core@$PLAYWRIGHT_CORE" "axe-core@$AXE_CORE" >/dev/null)
fi
echo "$dir/node_modules"
