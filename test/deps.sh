#!/usr/bin/env bash
# System packages the tests need: PyTorch and ONNX for the training image's real CPU run
# (Debian's python3-torch is CPU-only and small next to the PyPI wheel with CUDA), Lua 5.1 for the
# Argo CD health checks (the dialect Argo CD runs them in), and for the test bed's data plane nftables
# (kube-proxy's nftables mode runs `nft`), iproute2 (pod addresses) and curl (readiness waits).
set -euo pipefail
need=(python3-torch python3-onnx python3-numpy python3-jsonschema lua5.1 nftables iproute2 curl)
missing=()
for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
((${#missing[@]})) || exit 0
echo "[deps] installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
