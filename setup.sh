#!/usr/bin/env bash
# Installs everything tfc needs on a fresh Debian 12 machine with Node.js 20, then its npm packages.
#   Debian: LLVM 14 (opt, llc), a C compiler, the aarch64 cross compiler and qemu (cross-target
#   tests), Chromium (the wasm target's browser test). Needs root (or sudo) only when something
#   is missing. numpy, a benchmark peer, is used when python3 has it; the bench says so otherwise.
set -euo pipefail
cd "$(dirname "$0")"

packages=(llvm-14 gcc libc6-dev binutils gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# LLVM 14's tools are opt-14/llc-14 on PATH only through llvm-config; tfc finds them either way.

# onnxruntime-node (a benchmark peer) would try to download CUDA libraries at install; the CPU build ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
