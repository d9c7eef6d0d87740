#!/usr/bin/env bash
# Install size of packed tarballs: what `npm ci --omit=dev` puts in a fresh app that depends on
# nestjs-etlify alone (npm adds the required peers; optional ones, such as a queue driver, stay out).
# Usage: scripts/install-size.sh <label>=<tarball> [<label>=<tarball> ...]
set -euo pipefail
for arg in "$@"; do
  label="${arg%%=*}"
  tarball="$(cd "$(dirname "${arg#*=}")" && pwd)/$(basename "${arg#*=}")"
  app="$(mktemp -d)"
  cp "$tarball" "$app/nestjs-etlify.tgz"
  printf '{"name":"size-%s","version":"1.0.0","private":true,"dependencies":{"nestjs-etlify":"file:./nestjs-etlify.tgz"}}\n' "$label" >"$app/package.json"
  (cd "$app" && npm install --omit=dev --prefer-offline --ignore-scripts --no-audit --no-fund >/dev/null 2>&1 \
    && rm -rf node_modules && npm ci --omit=dev --prefer-offline --ignore-scripts --no-audit --no-fund >/dev/null 2>&1)
  packages=$(cd "$app" && npm ls --all --omit=dev --parseable 2>/dev/null | tail -n +2 | wc -l)
  tree=$(du -sk "$app/node_modules" | cut -f1)
  own=$(du -sk "$app/node_modules/nestjs-etlify" | cut -f1)
  tgz=$(stat -c %s "$tarball")
  printf '%-8s tarball %7d B   installed package %5d KB   production tree %6d KB, %3d packages\n' \
    "$label" "$tgz" "$own" "$tree" "$packages"
  rm -rf "$app"
done
