#!/usr/bin/env bash
# Starts klassik with docker compose: three ZooKeeper nodes, three brokers and the classroom
# page (docker-compose.yml), from a fresh clone, without prompts:
#
#   1. zookeeper:3.8: use it if present, else pull it, else (no registry reachable) build a
#      stand-in from Debian's ZooKeeper 3.8 (docker/zookeeper/build-image.sh; needs root or
#      password-less sudo, debootstrap and a Debian mirror; about two minutes, once);
#   2. klassik:local: with Go on the host, build the static binary here (CGO_ENABLED=0) and
#      pack it FROM scratch (docker/klassik/Dockerfile.prebuilt); without Go, build the
#      multi-stage docker/klassik/Dockerfile (pulls golang:1.26);
#   3. compose up -d, then wait until ZooKeeper has a quorum, all three brokers are
#      registered in /klassik/brokers/ids and their ports answer, and the classroom is healthy;
#   4. print how to connect, and last the classroom's URL.
#
# Environment:
#   KLASSIK_BUILD=auto|host|docker|skip   how to get klassik:local (auto: host if Go is installed)
#   KLASSIK_WAIT_TIMEOUT=300              seconds to wait for a usable cluster (0: don't wait)
#   ZK_PULL_TIMEOUT=60                    seconds to try pulling zookeeper:3.8
#   COMPOSE_PROJECT_NAME=klassik          Compose project
#   COMPOSE="docker-compose"              force a Compose command (default: v2 if installed)
#   KLASSIK_ZK_PORT=2181, KLASSIK_KAFKA1_PORT=9092, KLASSIK_KAFKA2_PORT=9093,
#   KLASSIK_KAFKA3_PORT=9094, KLASSIK_KAFKA1_HTTP_PORT=9404, KLASSIK_KAFKA2_HTTP_PORT=9405,
#   KLASSIK_KAFKA3_HTTP_PORT=9406, KLASSIK_UI_PORT=8080
#                                         host ports (on 127.0.0.1), e.g. when 9092 is taken
set -euo pipefail
# shellcheck source=scripts/compose-lib.sh
. "$(dirname "$0")/compose-lib.sh"

build_mode="${KLASSIK_BUILD:-auto}"
wait_timeout="${KLASSIK_WAIT_TIMEOUT:-300}"
pull_timeout="${ZK_PULL_TIMEOUT:-60}"
zk_image="zookeeper:3.8"
klassik_image="klassik:local"
brokers=(kafka1 kafka2 kafka3)
broker_ports=("${KLASSIK_KAFKA1_PORT:-9092}" "${KLASSIK_KAFKA2_PORT:-9093}" "${KLASSIK_KAFKA3_PORT:-9094}")
http_ports=("${KLASSIK_KAFKA1_HTTP_PORT:-9404}" "${KLASSIK_KAFKA2_HTTP_PORT:-9405}" "${KLASSIK_KAFKA3_HTTP_PORT:-9406}")
zk_port="${KLASSIK_ZK_PORT:-2181}"
ui_port="${KLASSIK_UI_PORT:-8080}"
zk_nodes=(zoo1 zoo2 zoo3)
started=$(date +%s)

elapsed() { echo "$(( $(date +%s) - started ))s"; }

command -v docker >/dev/null || die "docker is not installed"
docker info >/dev/null 2>&1 || die "cannot talk to the Docker engine (is it running? are you in the docker group?)"
compose_cmd
cd "$repo_root"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ports taken by something other than this project's own containers make `up` fail halfway.
if [[ -z "$(compose ps -q 2>/dev/null)" ]]; then
    for p in "$zk_port" "${broker_ports[@]}" "${http_ports[@]}" "$ui_port"; do
        port_open "$p" && die "127.0.0.1:$p is already in use; stop what listens there or move the cluster (KLASSIK_ZK_PORT, KLASSIK_KAFKA1_PORT, KLASSIK_KAFKA2_PORT, KLASSIK_KAFKA3_PORT, KLASSIK_KAFKA1_HTTP_PORT, KLASSIK_KAFKA2_HTTP_PORT, KLASSIK_KAFKA3_HTTP_PORT, KLASSIK_UI_PORT)"
    done
fi

# --- 1. ZooKeeper image ---------------------------------------------------------------------
if docker image inspect "$zk_image" >/dev/null 2>&1; then
    # A stand-in built by an older checkout is rebuilt (its top layer only: seconds).
    have=$(docker image inspect -f '{{index .Config.Labels "org.klassik.standin-hash"}}' "$zk_image" 2>/dev/null || true)
    want=$("$repo_root/docker/zookeeper/build-image.sh" --hash)
    if [[ -n "$have" && "$have" != "$want" ]]; then
        say "==> $zk_image: the local stand-in is out of date; rebuilding it"
        "$repo_root/docker/zookeeper/build-image.sh" "$zk_image"
    else
        say "==> $zk_image: present"
    fi
else
    say "==> $zk_image: pulling (up to ${pull_timeout}s)"
    if timeout "$pull_timeout" docker pull -q "$zk_image" >/dev/null 2>&1; then
        say "    pulled"
    else
        say "    cannot pull it: building a stand-in from Debian's ZooKeeper 3.8 (docker/zookeeper/)"
        "$repo_root/docker/zookeeper/build-image.sh" "$zk_image"
    fi
fi

# --- 2. klassik image -----------------------------------------------------------------------
previous_image=$(docker image inspect -f '{{.Id}}' "$klassik_image" 2>/dev/null || true)
if [[ "$build_mode" == auto ]]; then
    if command -v go >/dev/null 2>&1; then build_mode=host; else build_mode=docker; fi
fi
case "$build_mode" in
host)
    say "==> $klassik_image: building the binary on the host and packing it FROM scratch ($(elapsed))"
    ctx=$(mktemp -d "${TMPDIR:-/tmp}/klassik-image.XXXXXX")
    trap 'rm -rf "$ctx"' EXIT
    mkdir -p "$ctx/rootfs/tmp" "$ctx/data"
    chmod 1777 "$ctx/rootfs/tmp"
    arch=$(docker version -f '{{.Server.Arch}}' 2>/dev/null || echo amd64)
    CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath -ldflags="-s -w" \
        -o "$ctx/klassik" ./cmd/klassik || die "go build ./cmd/klassik failed"
    docker build -q -f docker/klassik/Dockerfile.prebuilt -t "$klassik_image" "$ctx" >/dev/null 2>"$ctx/build.log" ||
        { cat "$ctx/build.log" >&2; die "docker build (Dockerfile.prebuilt) failed"; }
    ;;
docker)
    say "==> $klassik_image: building docker/klassik/Dockerfile (multi-stage, golang:1.26) ($(elapsed))"
    compose build kafka1
    ;;
skip)
    docker image inspect "$klassik_image" >/dev/null 2>&1 || die "KLASSIK_BUILD=skip but $klassik_image does not exist"
    say "==> $klassik_image: using the existing image"
    ;;
*) die "KLASSIK_BUILD must be auto, host, docker or skip (got $build_mode)" ;;
esac

# --- 3. start ---------------------------------------------------------------------------------
say "==> starting project $COMPOSE_PROJECT_NAME ($COMPOSE_BASE) ($(elapsed))"
compose up -d --no-build
# The klassik:local that this build replaced, once no container uses it (errors ignored).
if [[ -n "$previous_image" && "$previous_image" != "$(docker image inspect -f '{{.Id}}' "$klassik_image" 2>/dev/null)" ]]; then
    docker image rm "$previous_image" >/dev/null 2>&1 || true
fi

if [[ "$wait_timeout" == 0 ]]; then
    say "==> started in $(elapsed) (not waiting: KLASSIK_WAIT_TIMEOUT=0)"
    exit 0
fi

container() { compose ps -q "$1" 2>/dev/null | head -n1; }
# state prints the container's State.Status and, when it has a health check, Health.Status.
state() {
    local id
    id=$(container "$1")
    [[ -z "$id" ]] && { echo missing; return; }
    docker inspect -f '{{.State.Status}}{{if .State.Health}}/{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || echo missing
}
restarts() {
    local id
    id=$(container "$1")
    [[ -z "$id" ]] && { echo 0; return; }
    docker inspect -f '{{.RestartCount}}' "$id" 2>/dev/null || echo 0
}
registered_brokers() {
    # Last line of `ls` is like "[1, 2, 3]". zkCli.sh is in both the official and the stand-in image.
    compose exec -T zoo1 zkCli.sh -server 127.0.0.1:2181 ls /klassik/brokers/ids 2>/dev/null |
        tr -d '\r' | grep -E '^\[[0-9, ]*\]$' | tail -n1
}
fail_with_logs() {
    say "$(basename "$0"): $*"
    for s in "${zk_nodes[@]}" "${brokers[@]}" ui; do
        say "---- $s ($(state "$s")): last log lines"
        compose logs --no-color --tail=15 "$s" >&2 2>&1 || true
    done
    say "(the cluster is left running for inspection: scripts/compose-down.sh -v removes it)"
    exit 1
}

say "==> waiting up to ${wait_timeout}s for ZooKeeper's quorum, three registered brokers and the classroom ($(elapsed))"
deadline=$(( $(date +%s) + wait_timeout ))
phase=zookeeper
while :; do
    if (( $(date +%s) > deadline )); then
        fail_with_logs "the cluster was not usable within ${wait_timeout}s (waiting for: $phase)"
    fi
    for s in "${brokers[@]}" ui; do
        st=$(state "$s")
        if [[ "$st" == exited* || "$st" == dead* ]]; then
            fail_with_logs "$s stopped ($st)"
        fi
        # restart: on-failure brings a broker back after a failed start; a few are tolerated.
        if (( $(restarts "$s") >= 3 )); then
            fail_with_logs "$s keeps failing (restarted $(restarts "$s") times)"
        fi
    done
    case "$phase" in
    zookeeper)
        ok=1
        for s in "${zk_nodes[@]}"; do
            [[ "$(state "$s")" == running/healthy ]] || ok=0
        done
        if (( ok )); then say "    ZooKeeper quorum up after $(elapsed)"; phase=brokers; continue; fi
        ;;
    brokers)
        ids=$(registered_brokers || true)
        if [[ "$ids" == "[1, 2, 3]" ]]; then
            say "    brokers registered in /klassik/brokers/ids after $(elapsed): $ids"
            phase=ports
            continue
        fi
        ;;
    ports)
        ok=1
        for p in "${broker_ports[@]}" "${http_ports[@]}"; do port_open "$p" || ok=0; done
        if (( ok )); then phase=classroom; continue; fi
        ;;
    classroom)
        # Its health check: a ZooKeeper session (klassik healthcheck --http .../healthz).
        if [[ "$(state ui)" == running/healthy ]] && port_open "$ui_port"; then break; fi
        ;;
    esac
    sleep 1
done

down_env=""
[[ "$COMPOSE_PROJECT_NAME" != klassik ]] && down_env="COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME "
cat >&2 <<MSG
==> klassik is up ($(elapsed) after compose-up.sh started)

  brokers     127.0.0.1:${broker_ports[0]}, 127.0.0.1:${broker_ports[1]}, 127.0.0.1:${broker_ports[2]}  (bootstrap: localhost:${broker_ports[0]})
  zookeeper   127.0.0.1:$zk_port, cluster under /klassik (zookeeper.connect 127.0.0.1:$zk_port/klassik)
              $COMPOSE_BASE -p $COMPOSE_PROJECT_NAME exec zoo1 zkCli.sh -server 127.0.0.1:2181 ls /klassik/brokers/ids
  broker HTTP 127.0.0.1:${http_ports[0]}, 127.0.0.1:${http_ports[1]}, 127.0.0.1:${http_ports[2]}  (/metrics, /healthz; registered as jmx_port)
  logs        $COMPOSE_BASE -p $COMPOSE_PROJECT_NAME logs -f kafka1
  stop        ${down_env}scripts/compose-down.sh        (add -v to delete the data volumes)

Classroom: http://127.0.0.1:${ui_port}/
MSG
