#!/usr/bin/env bash
# Installs schemathesis (PyPI, pinned) in a venv for the gateway's API
# conformance test (crates/toolplane-cli/tests/schemathesis.rs), which runs
# it against `toolplane serve` and its own GET /openapi.json.
# Idempotent; safe to run by hand. Prints the `schemathesis` path last.
set -euo pipefail
cache=${TOOLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolplane}
venv="$cache/schemathesis-venv"
SCHEMATHESIS=4.32.5
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
have=$("$venv/bin/python" -m pip freeze 2>/dev/null | grep -E '^schemathesis==' || true)
if [ "$have" != "schemathesis==$SCHEMATHESIS" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS"
fi
echo "$venv/bin/schemathesis"
