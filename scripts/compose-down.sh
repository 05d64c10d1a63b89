#!/usr/bin/env bash
# Stops the cluster started by scripts/compose-up.sh.
#
#   scripts/compose-down.sh        stop and remove the containers; keep the data volumes
#   scripts/compose-down.sh -v     also delete the volumes (ZooKeeper data, broker logs)
#
# COMPOSE_PROJECT_NAME (default klassik) and COMPOSE as for compose-up.sh.
set -euo pipefail
# shellcheck source=scripts/compose-lib.sh
. "$(dirname "$0")/compose-lib.sh"

# --profile grow: the optional fourth broker (kafka4) and its volume go too.
args=(--profile grow down --remove-orphans)
for a in "$@"; do
    case "$a" in
    -v|--volumes) args+=(-v) ;;
    -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument $a (usage: $0 [-v])" ;;
    esac
done
compose_cmd
# Nothing of the project left (a second `make down`): say so once instead of letting compose
# report every container and volume it did not find.
label="com.docker.compose.project=$COMPOSE_PROJECT_NAME"
if [ -z "$(docker ps -aq --filter "label=$label" 2>/dev/null)" ] &&
    [ -z "$(docker volume ls -q --filter "label=$label" 2>/dev/null)" ] &&
    [ -z "$(docker network ls -q --filter "label=$label" 2>/dev/null)" ]; then
    echo "The $COMPOSE_PROJECT_NAME cluster is not running: nothing to stop."
    exit 0
fi
compose "${args[@]}"
