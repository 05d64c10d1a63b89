#!/bin/bash
# Apache ZooKeeper's command-line client: zkCli.sh [-server host:port] [cmd args...]
# shellcheck source=docker/zookeeper/bin/zk-env.sh
. "$(dirname "$0")/zk-env.sh"
# shellcheck disable=SC2086 # JVMFLAGS and CLIENT_JVMFLAGS are word-split on purpose
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=${ZK_CLI_LOG_LEVEL:-warn}" \
    -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.util.ServiceUtils=off ${CLIENT_JVMFLAGS} ${JVMFLAGS} \
    -cp "$ZK_CLASSPATH" org.apache.zookeeper.ZooKeeperMain "$@"
