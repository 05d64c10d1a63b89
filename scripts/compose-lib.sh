# shellcheck shell=bash
# Shared by scripts/compose-up.sh and scripts/compose-down.sh (sourced, not run).
#
# COMPOSE (e.g. "docker-compose" or "docker compose") picks the Compose command; by default
# `docker compose` (v2) when installed, else docker-compose (1.29 works).
# COMPOSE_PROJECT_NAME defaults to "klassik".

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-klassik}"
compose_file="$repo_root/docker-compose.yml"

say() { printf '%s\n' "$*" >&2; }
die() { say "$(basename "$0"): $*"; exit 1; }

# compose_cmd fills the array COMPOSE_CMD (with -f and -p) and COMPOSE_BASE (without).
compose_cmd() {
    if [[ -n "${COMPOSE:-}" ]]; then
        # shellcheck disable=SC2206
        COMPOSE_CMD=($COMPOSE)
    elif docker compose version >/dev/null 2>&1; then
        COMPOSE_CMD=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        COMPOSE_CMD=(docker-compose)
    else
        die "neither 'docker compose' (v2) nor docker-compose is installed"
    fi
    # shellcheck disable=SC2034 # used by the scripts that source this file
    COMPOSE_BASE="${COMPOSE_CMD[*]}"
    COMPOSE_CMD+=(-f "$compose_file" -p "$COMPOSE_PROJECT_NAME")
}

compose() { "${COMPOSE_CMD[@]}" "$@"; }
