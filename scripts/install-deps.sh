#!/usr/bin/env bash
# Installs what klassik's tests and `make run` need on Debian (bookworm): ZooKeeper, Java,
# kcat and the two Python Kafka clients, then the Go modules. Idempotent and quick when
# everything is there; runs without a terminal (CI). Needs root (or sudo) only when a
# package is missing.
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(zookeeper kcat python3-confluent-kafka python3-kafka chromium)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null; then
		missing+=("$p")
	fi
done
# ZooKeeper's package depends on a JRE; a machine with a JRE of its own only needs one when
# java is absent.
if ! command -v java >/dev/null 2>&1 || ! java -version >/dev/null 2>&1; then
	missing+=(default-jre-headless)
fi

if ((${#missing[@]} > 0)); then
	echo "install-deps: installing ${missing[*]}"
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "install-deps: apt-get not found; install ${missing[*]} by hand (Debian package names)" >&2
		exit 1
	fi
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		sudo=(sudo -n)
	fi
	export DEBIAN_FRONTEND=noninteractive
	SUDO=("${sudo[@]}")
	# shellcheck source=scripts/apt-lib.sh
	. scripts/apt-lib.sh # apt_get: waits while another apt run holds the lock
	# Refresh the package lists only when apt does not know a package we need.
	for p in "${missing[@]}"; do
		if ! apt-cache policy "$p" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null; then
			apt_get update -q
			break
		fi
	done
	# Another apt run (a package list update, an unattended upgrade) can leave the lists
	# half-written for a moment: look again after a pause before calling a package missing.
	for p in "${missing[@]}"; do
		found=
		for try in 1 2 3; do
			if apt-cache policy "$p" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null; then
				found=1
				break
			fi
			echo "install-deps: apt does not list $p yet (try $try of 3); updating the package lists again"
			sleep 5
			apt_get update -q || true
		done
		if [[ -z $found ]]; then
			echo "install-deps: no Debian package named $p" >&2
			exit 1
		fi
	done
	apt_get install -y -q --no-install-recommends "${missing[@]}"
fi

go mod download
(cd deploy/kubernetes && go mod download) # the manifests' test is a module of its own
echo "install-deps: ok"
