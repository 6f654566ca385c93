#!/usr/bin/env bash
# Installs the real client SDKs the toolplane-server tests drive against a
# `toolplane serve` process: the official `openai` and `anthropic` Python
# SDKs in a venv, and the official `openai` npm package, all pinned.
# Idempotent; safe to run by hand. Prints the venv's python path last.
set -euo pipefail
cache=${TOOLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolplane}
venv="$cache/server-venv"
OPENAI_PY=3.51.0
ANTHROPIC_PY=2.10.0
OPENAI_NPM=7.55.0
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
want="openai==$OPENAI_PY anthropic==$ANTHROPIC_PY"
have=$("$venv/bin/python" -m pip freeze 2>/dev/null | grep -E '^(openai|anthropic)==' | sort | tr '\n' ' ' || true)
if [ "$have" != "anthropic==$ANTHROPIC_PY openai==$OPENAI_PY " ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $want
fi
npm_dir="$cache/server-npm"
if [ ! -f "$npm_dir/node_modules/openai/package.json" ] || ! grep -q "\"version\": \"$OPENAI_NPM\"" "$npm_dir/node_modules/openai/package.json"; then
  if command -v npm >/dev/null 2>&1; then
    mkdir -p "$npm_dir"
    (cd "$npm_dir" && npm install --silent --no-audit --no-fund "openai@$OPENAI_NPM" >/dev/null)
  fi
fi
echo "$venv/bin/python"
