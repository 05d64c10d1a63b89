# shellcheck shell=bash
# Sourced by zkServer.sh and zkCli.sh: the classpath of Debian's ZooKeeper 3.8.
# zookeeper.jar's manifest names the jars it needs; slf4j-simple logs to stderr, which is the
# container's log.
ZOOCFGDIR="${ZOOCFGDIR:-/conf}"
ZOOCFG="${ZOOCFG:-$ZOOCFGDIR/zoo.cfg}"
ZK_CLASSPATH="$ZOOCFGDIR:/usr/share/java/zookeeper.jar"
if [[ -f /usr/share/java/slf4j-simple.jar ]]; then
    ZK_CLASSPATH="$ZK_CLASSPATH:/usr/share/java/slf4j-simple.jar"
fi
