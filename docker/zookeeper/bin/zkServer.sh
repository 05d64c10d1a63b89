#!/bin/bash
# The subset of Apache ZooKeeper's bin/zkServer.sh that the official image uses:
#   zkServer.sh start-foreground [zoo.cfg]   run the server in the foreground (the image's CMD)
#   zkServer.sh status [zoo.cfg]             print Mode: leader|follower|standalone, exit 0 if serving
#   zkServer.sh print-cmd                    print the java command line
set -e
# shellcheck source=docker/zookeeper/bin/zk-env.sh
. "$(dirname "$0")/zk-env.sh"
cmd="${1:-start-foreground}"
[[ -n "$2" ]] && ZOOCFG="$2"

server_argv() {
    # JVMFLAGS and SERVER_JVMFLAGS as in Apache's zkEnv.sh (word-split on purpose).
    # shellcheck disable=SC2206
    argv=(java "-Xmx${ZK_SERVER_HEAP:-1000}m" -XX:+UseSerialGC -Djava.awt.headless=true
        "-Dzookeeper.log.dir=${ZOO_LOG_DIR:-/logs}" -Dzookeeper.jmx.log4j.disable=true
        -Dorg.slf4j.simpleLogger.showDateTime=true
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn=warn
        ${SERVER_JVMFLAGS} ${JVMFLAGS}
        -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZOOCFG")
}

case "$cmd" in
start-foreground)
    echo "ZooKeeper (Debian $(dpkg-query -W -f='${Version}' libzookeeper-java 2>/dev/null)) using config: $ZOOCFG" >&2
    server_argv
    exec "${argv[@]}"
    ;;
print-cmd)
    server_argv
    printf '%q ' "${argv[@]}"; echo
    ;;
status)
    port=$(sed -n 's/^clientPort=//p' "$ZOOCFG" | tail -n1)
    if [[ -z "$port" ]]; then # clientPort given as ";2181" on this node's server.N line
        myid=$(cat "${ZOO_DATA_DIR:-/data}/myid" 2>/dev/null || echo 1)
        port=$(sed -n "s/^server\.${myid}=.*;\(.*:\)\{0,1\}\([0-9]*\)\$/\2/p" "$ZOOCFG" | tail -n1)
    fi
    out=$(echo srvr | nc -w 3 127.0.0.1 "${port:-2181}" 2>/dev/null || true)
    mode=$(printf '%s\n' "$out" | sed -n 's/^Mode: //p')
    echo "Client port found: ${port:-2181}. Client address: localhost."
    if [[ -n "$mode" ]]; then
        echo "Mode: $mode"
        exit 0
    fi
    echo "Error contacting service. It is probably not running." >&2
    exit 1
    ;;
*)
    echo "usage: zkServer.sh {start-foreground|status|print-cmd} [zoo.cfg]" >&2
    exit 2
    ;;
esac
