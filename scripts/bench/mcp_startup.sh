#!/usr/bin/env bash
# `toolplane mcp serve` against FastMCP's `FastMCP.from_openapi` on GitHub's
# OpenAPI description (@octokit/openapi 23.0.2, 1,223 operations): time from
# process start to the answer of the first `tools/list`, and peak RSS, runs
# alternating between the two servers.
#
#   scripts/bench/mcp_startup.sh [RUNS]        # default 5 runs each
#
# Builds the release binary, fetches the corpus (scripts/fetch-corpora.sh) and
# installs FastMCP, pinned, in a virtualenv under ~/.cache/toolplane when
# missing (offline once cached).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
FASTMCP_VERSION=4.2.3
cache=${TOOLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolplane}
venv="$cache/fastmcp-$FASTMCP_VERSION"
export TOOLPLANE_CORPORA=${TOOLPLANE_CORPORA:-$root/.cache/corpora}
spec="$TOOLPLANE_CORPORA/octokit-openapi-23.0.2/package/generated/api.github.com.json"

[ -f "$spec" ] || bash "$root/scripts/fetch-corpora.sh"
if [ ! -f "$venv/.installed" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "fastmcp==$FASTMCP_VERSION"
  touch "$venv/.installed"
fi
(cd "$root" && cargo build --release -p toolplane-cli --quiet)
bin="${CARGO_TARGET_DIR:-$root/target}/release/toolplane"

python3 "$root/scripts/bench/mcp_serve_startup.py" --runs "$runs" \
  --server toolplane "$bin" mcp serve "$spec" \
  --server fastmcp "$venv/bin/python" "$root/scripts/bench/fastmcp_openapi.py" "$spec"
