#!/usr/bin/env bash
# Fetches the public OpenAPI corpora that toolplane's tests run on, from the npm
# registry, by package name and pinned version, into a cache that is never
# committed. Each tarball's SHA-512 is checked against the integrity pinned here
# (the registry's dist.integrity) before it is unpacked.
#
#   scripts/fetch-corpora.sh            # into $TOOLPLANE_CORPORA or .cache/corpora
#
# Idempotent: a package already unpacked with a matching stamp is skipped.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TOOLPLANE_CORPORA:-$root/.cache/corpora}
mkdir -p "$cache"

# name@version  folder  integrity
packages=(
  "@octokit/openapi@23.0.2 octokit-openapi-23.0.2 sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg=="
  "@readme/oas-examples@8.2.2 readme-oas-examples-8.2.2 sha512-uytlvlylq3zpemG0h1R7ijlMBCajqXU0VpMI1Iw+j92s77Y/oT6pBf3BZN0lYl0WIGTh7POM4Jdu7L14eCzwXQ=="
)

for entry in "${packages[@]}"; do
  read -r spec folder integrity <<<"$entry"
  dest="$cache/$folder"
  if [ -f "$dest/.integrity" ] && [ "$(cat "$dest/.integrity")" = "$integrity" ] && [ -d "$dest/package" ]; then
    echo "corpus $spec: cached at $dest"
    continue
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "corpus $spec: fetching"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>"$tmp/npm.log") || {
    cat "$tmp/npm.log" >&2
    echo "error: npm pack $spec failed" >&2
    exit 1
  }
  tarball=$(ls "$tmp"/*.tgz)
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "error: $spec integrity mismatch: expected $integrity, got $actual" >&2
    exit 1
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xzf "$tarball" -C "$dest"
  echo "$integrity" >"$dest/.integrity"
  echo "corpus $spec: unpacked into $dest"
  rm -rf "$tmp"
  trap - EXIT
done
