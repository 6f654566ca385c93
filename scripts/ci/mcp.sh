#!/usr/bin/env bash
# Installs the MCP implementations that toolplane-mcp's interoperability tests
# run against, pinned, into a cache that is never committed:
#
#   - @modelcontextprotocol/server-everything (npm): the reference server our
#     client talks to over stdio and Streamable HTTP;
#   - @modelcontextprotocol/inspector (npm): its CLI mode (`--cli`) lists and
#     calls the tools of our server over stdio and Streamable HTTP;
#   - mcp (PyPI, the official Python SDK) in a virtualenv: the client that talks
#     to our server over stdio and Streamable HTTP.
#
#   scripts/ci/mcp.sh            # into $TOOLPLANE_MCP_CACHE or .cache/mcp
#
# Idempotent: a pinned version already installed is kept. Works on a fresh
# Debian machine as root (installs nodejs/npm and python3-venv when missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TOOLPLANE_MCP_CACHE:-$root/.cache/mcp}
mkdir -p "$cache"

EVERYTHING_VERSION=2026.8.31
INSPECTOR_VERSION=2.12.0
PYTHON_MCP_VERSION=2.3.0

need=()
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm: the reference server, pinned, with its lock-free install kept in the cache.
npm_dir="$cache/npm"
stamp="$npm_dir/.installed-$EVERYTHING_VERSION"
if [ ! -f "$stamp" ]; then
  mkdir -p "$npm_dir"
  echo "mcp: installing @modelcontextprotocol/server-everything@$EVERYTHING_VERSION"
  (cd "$npm_dir" && [ -f package.json ] || echo '{"name":"toolplane-mcp-ci","private":true}' >"$npm_dir/package.json")
  npm install --prefix "$npm_dir" --no-audit --no-fund --silent \
    "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION"
  touch "$stamp"
else
  echo "mcp: server-everything $EVERYTHING_VERSION cached at $npm_dir"
fi

# npm: the MCP Inspector, pinned, in the same folder.
istamp="$npm_dir/.installed-inspector-$INSPECTOR_VERSION"
if [ ! -f "$istamp" ]; then
  echo "mcp: installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION"
  npm install --prefix "$npm_dir" --no-audit --no-fund --silent \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
  touch "$istamp"
else
  echo "mcp: inspector $INSPECTOR_VERSION cached at $npm_dir"
fi

# PyPI: the official Python SDK in a venv.
venv="$cache/venv"
pstamp="$venv/.installed-mcp-$PYTHON_MCP_VERSION"
if [ ! -f "$pstamp" ]; then
  echo "mcp: installing the Python SDK mcp==$PYTHON_MCP_VERSION"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mcp==$PYTHON_MCP_VERSION"
  touch "$pstamp"
else
  echo "mcp: Python mcp $PYTHON_MCP_VERSION cached at $venv"
fi

"$venv/bin/python" -c 'import mcp, importlib.metadata as m; print("mcp: python sdk", m.version("mcp"))'
ls "$npm_dir/node_modules/@modelcontextprotocol/server-everything/dist" >/dev/null
test -x "$npm_dir/node_modules/.bin/mcp-inspector"
echo "mcp: ready in $cache"
