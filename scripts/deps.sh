#!/usr/bin/env bash
# deps.sh — installs the Debian packages headscan needs (only the missing ones),
# then prints a ✓/✗ line per optional feature. Safe to run repeatedly.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libopenblas-openmp-dev liblapacke-dev libcjson-dev
      libonig-dev libutf8proc-dev libdnnl-dev zlib1g-dev libsnappy-dev libzstd-dev liblz4-dev
      libbrotli-dev libcurl4-openssl-dev libssl-dev python3 python3-numpy unicode-data libjansson-dev
      python3-dev python3-pandas python3-pytest python3-setuptools python3-tqdm python3-venv python3-pip
      nodejs chromium libopenmpi-dev openmpi-bin)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (report assets, browser test): bundled with nodesource's nodejs, a package of its own in Debian
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
feature() { if eval "$2" >/dev/null 2>&1; then echo "✓ $1"; else echo "✗ $1"; fi; }
feature "OpenMP (gcc -fopenmp)" "echo 'int main(void){return 0;}' | gcc -x c -fopenmp - -o /tmp/hs_omp_probe"
feature "BLAS (OpenBLAS, OpenMP build)" "ls /usr/lib/*/openblas-openmp/libopenblas.so"
feature "LAPACKE" "test -f /usr/include/lapacke.h"
feature "bf16 compute (oneDNN on AVX512_BF16/AMX: --compute bf16)" "test -f /usr/include/oneapi/dnnl/dnnl.h && grep -qw avx512_bf16 /proc/cpuinfo"
feature "chromium (report browser test)" "test -x /usr/bin/chromium"
feature "Open MPI (headscan-mpi: scan --mpi)" "command -v mpicc && command -v mpirun"
