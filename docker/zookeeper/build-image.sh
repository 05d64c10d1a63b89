#!/usr/bin/env bash
# Builds a local image tagged zookeeper:3.8 (or $1) that stands in for the official one, for a
# Docker engine that cannot pull from a registry. Needs root (or sudo), debootstrap and a
# reachable Debian mirror; takes a minute or two.
#
#   1. debootstrap --variant=minbase bookworm with Debian's ZooKeeper 3.8 jars
#      (libzookeeper-java: the `zookeeper` package itself would drag in a full desktop JRE),
#      a headless JRE, slf4j-simple for logging and netcat for health checks;
#   2. trim it and `docker import` it as klassik/zookeeper-base:bookworm;
#   3. docker build docker/zookeeper/Dockerfile on top (the official image's layout and
#      environment contract) and tag it.
#
# Environment: DEBIAN_MIRROR (default: the Debian URI in /etc/apt/sources.list.d/debian.sources
# or /etc/apt/sources.list, else http://deb.debian.org/debian), DEBIAN_SUITE (bookworm).
#
#   build-image.sh [TAG]     build (the base only when missing or REBUILD_BASE=1)
#   build-image.sh --hash    print the hash of the files the top layer is built from; the
#                            image carries it as label org.klassik.standin-hash, so that
#                            scripts/compose-up.sh can rebuild a stale stand-in
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
standin_hash() {
    (cd "$here" && cat Dockerfile docker-entrypoint.sh bin/*) | sha256sum | cut -c1-16
}
if [[ "${1:-}" == --hash ]]; then
    standin_hash
    exit 0
fi

tag="${1:-zookeeper:3.8}"
base_tag="klassik/zookeeper-base:bookworm"
suite="${DEBIAN_SUITE:-bookworm}"
packages="libzookeeper-java,libslf4j-java,default-jre-headless,netcat-openbsd"

log() { printf 'build-zookeeper: %s\n' "$*" >&2; }

debian_mirror() {
    if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
        echo "$DEBIAN_MIRROR"; return
    fi
    local f uri
    f=/etc/apt/sources.list.d/debian.sources
    if [[ -r $f ]]; then
        # The first stanza's URIs whose path is not debian-security.
        uri=$(awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
        [[ -n "$uri" ]] && { echo "$uri"; return; }
    fi
    if [[ -r /etc/apt/sources.list ]]; then
        uri=$(awk '$1=="deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|ftp|file):/) { print $i; exit } }' /etc/apt/sources.list)
        [[ -n "$uri" ]] && { echo "$uri"; return; }
    fi
    echo http://deb.debian.org/debian
}

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        log "debootstrap needs root: run as root or with password-less sudo"
        exit 1
    fi
fi
DEBOOTSTRAP=$(command -v debootstrap || true)
[[ -z "$DEBOOTSTRAP" && -x /usr/sbin/debootstrap ]] && DEBOOTSTRAP=/usr/sbin/debootstrap
if [[ -z "$DEBOOTSTRAP" ]]; then
    if command -v apt-get >/dev/null; then
        log "installing debootstrap (apt-get)"
        apt_log=$(mktemp)
        # shellcheck source=scripts/apt-lib.sh
        . "$here/../../scripts/apt-lib.sh" # apt_get waits while apt's lock is busy
        { apt_get install -y -q debootstrap || { apt_get update -q && apt_get install -y -q debootstrap; }
        } >"$apt_log" || { cat "$apt_log" >&2; rm -f "$apt_log"; log "could not install debootstrap"; exit 1; }
        rm -f "$apt_log"
        DEBOOTSTRAP=/usr/sbin/debootstrap
    else
        log "debootstrap not found (apt-get install debootstrap)"
        exit 1
    fi
fi

start=$(date +%s)
if docker image inspect "$base_tag" >/dev/null 2>&1 && [[ "${REBUILD_BASE:-0}" != 1 ]]; then
    log "reusing $base_tag (REBUILD_BASE=1 to rebuild it)"
else
    mirror=$(debian_mirror)
    root=$(mktemp -d "${TMPDIR:-/var/tmp}/klassik-zk-rootfs.XXXXXX")
    cleanup() { "${SUDO[@]}" rm -rf --one-file-system "$root"; }
    trap cleanup EXIT
    log "debootstrap $suite from $mirror into $root ($packages)"
    "${SUDO[@]}" "$DEBOOTSTRAP" --variant=minbase --include="$packages" "$suite" "$root" "$mirror" \
        > "$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; log "debootstrap failed (log: $root.log)"; exit 1; }
    rm -f "$root.log"
    # Trim what a server image never reads.
    "${SUDO[@]}" rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/var/cache/debconf/*-old
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec "${SUDO[@]}" rm -rf {} + 2>/dev/null || true
    log "importing the root filesystem as $base_tag"
    "${SUDO[@]}" tar --numeric-owner -C "$root" -c . |
        docker import --message "debootstrap --variant=minbase $suite ($packages)" \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["/bin/bash"]' - "$base_tag" >/dev/null
fi

log "building $tag from docker/zookeeper/Dockerfile"
docker build -q --build-arg BASE="$base_tag" --label "org.klassik.standin-hash=$(standin_hash)" \
    -t "$tag" "$here" >/dev/null
log "built $tag in $(( $(date +%s) - start ))s"
