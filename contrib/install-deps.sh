#!/usr/bin/env bash
# Installs everything gpucloudfs needs to build, test and run its demo on
# Debian 12 (bookworm). Idempotent; run as root (or it uses sudo).
set -euo pipefail

SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

pkgs=(
	build-essential cmake pkg-config          # toolchain
	libfuse3-dev fuse3                        # FUSE (fusermount3)
	libcurl4-openssl-dev libssl-dev           # HTTP(S), crypto
	libcjson-dev libinih-dev                  # JSON, INI
	libhiredis-dev redis-server               # fleet mode (build) and its tests
	libcmocka-dev                             # unit tests
	python3 openssl                           # contrib/cloudsim
	jq curl ca-certificates procps            # demo and mount tests
	attr                                      # getfattr in the mount tests
	rsync tree zip unzip                      # the compatibility suite (tests/mount/18-compat.sh)
	man-db groff-base                         # the man page test (man -l)
	clang libclang-rt-14-dev                  # sanitizer builds and libFuzzer targets
)
# The official-SDK checks (tests/sdk) need Node.js and npm; keep an existing install.
if ! command -v node >/dev/null 2>&1; then
	pkgs+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
	pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: everything is already installed"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
