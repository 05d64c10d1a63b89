#!/usr/bin/env bash
# `make run`: a local ZooKeeper (Debian's package) on 127.0.0.1:2181 with its data in .run/,
# unless ZOOKEEPER_CONNECT names one already running, then one klassik broker with
# config/server.toml on 127.0.0.1:9092 in the foreground. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${KLASSIK_BIN:-bin/klassik}
CONFIG=${KLASSIK_CONFIG:-config/server.toml}
RUN_DIR=$PWD/.run
mkdir -p "$RUN_DIR"

zk_pid=
stop_zookeeper() {
	if [[ -n $zk_pid ]] && kill -0 "$zk_pid" 2>/dev/null; then
		echo "run: stopping ZooKeeper (pid $zk_pid)"
		kill "$zk_pid" 2>/dev/null || true
		wait "$zk_pid" 2>/dev/null || true
	fi
}
trap stop_zookeeper EXIT
# Ctrl-C reaches the broker too (same process group); once it has shut down, exit through
# the EXIT trap, which stops ZooKeeper (a background job, so it ignores the Ctrl-C itself).
trap 'exit 130' INT TERM

zk_ok() { # ruok over bash's /dev/tcp: prints imok when ZooKeeper serves
	local reply=
	exec 3<>"/dev/tcp/127.0.0.1/2181" || return 1
	printf ruok >&3
	read -r -t 2 reply <&3 || true
	exec 3<&- 3>&-
	[[ $reply == imok ]]
}

if [[ -z ${ZOOKEEPER_CONNECT:-} ]]; then
	if zk_ok 2>/dev/null; then
		echo "run: a ZooKeeper already answers on 127.0.0.1:2181; using it"
	else
		if [[ ! -f /usr/share/java/zookeeper.jar ]]; then
			echo "run: Debian's zookeeper package is missing: run scripts/install-deps.sh" >&2
			exit 1
		fi
		zk_dir=$RUN_DIR/zookeeper
		mkdir -p "$zk_dir/data"
		cat >"$zk_dir/zoo.cfg" <<-CFG
			tickTime=2000
			initLimit=10
			syncLimit=5
			dataDir=$zk_dir/data
			clientPort=2181
			clientPortAddress=127.0.0.1
			admin.enableServer=false
			4lw.commands.whitelist=*
		CFG
		echo "run: starting ZooKeeper on 127.0.0.1:2181 (log: $zk_dir/zookeeper.log)"
		java -Xmx256m -Dzookeeper.jmx.log4j.disable=true \
			-cp /etc/zookeeper/conf_example:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
			org.apache.zookeeper.server.quorum.QuorumPeerMain "$zk_dir/zoo.cfg" >"$zk_dir/zookeeper.log" 2>&1 &
		zk_pid=$!
		for _ in $(seq 1 120); do
			if zk_ok 2>/dev/null; then break; fi
			if ! kill -0 "$zk_pid" 2>/dev/null; then
				echo "run: ZooKeeper exited; see $zk_dir/zookeeper.log" >&2
				exit 1
			fi
			sleep 0.25
		done
		zk_ok 2>/dev/null || { echo "run: ZooKeeper did not answer within 30s" >&2; exit 1; }
	fi
	ZOOKEEPER_CONNECT=127.0.0.1:2181/klassik
fi

echo "run: broker with $CONFIG, zookeeper.connect=$ZOOKEEPER_CONNECT (Ctrl-C stops it)"
status=0
"$BIN" broker --config "$CONFIG" --override "zookeeper.connect=$ZOOKEEPER_CONNECT" || status=$?
exit "$status"
