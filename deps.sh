#!/bin/sh
# deps.sh - install the Debian (bookworm) packages airlock builds, tests and
# benchmarks with.  Run as root on a fresh machine; harmless to run again.
set -eu
pkgs="build-essential autoconf automake pkg-config
	liblmdb-dev lmdb-utils libsodium-dev libarchive-dev libevent-dev
	libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev
	libcmocka-dev libinih-dev
	minisign curl nginx-light ca-certificates tar gzip xz-utils zip python3 bc time
	git"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $pkgs >/dev/null
# The Hub API test runs npm's @huggingface/hub: use the machine's node and
# npm where they exist, Debian's otherwise.
command -v npm >/dev/null 2>&1 || apt-get install -y -qq nodejs npm >/dev/null
echo "deps.sh: Debian packages installed"
