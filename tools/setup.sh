#!/usr/bin/env bash
# Installs the Debian packages rtgraph builds with, then configures and
# builds a Release tree in build/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
  build-essential cmake pkg-config \
  libyaml-dev libck-dev portaudio19-dev libcmocka-dev libjansson-dev \
  libsndfile1-dev libsamplerate0-dev \
  clang clang-14 libclang-rt-14-dev \
  libasound2-dev libjack-jackd2-dev jackd2 jack-tools >/dev/null

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
