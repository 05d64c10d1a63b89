# shellcheck shell=bash
# apt_get ARGS...: apt-get ARGS, run as root (through the SUDO array when it is set, e.g.
# SUDO=(sudo -n)), that waits while another apt or dpkg run (an unattended upgrade, a package
# list update) holds apt's lock, instead of failing at once: up to APT_WAIT_SECONDS (600) in
# steps of APT_WAIT_STEP seconds (5), saying so on standard error. apt-get's output goes to
# standard output; the status is apt-get's.
apt_get() {
	local out rc waited=0 step=${APT_WAIT_STEP:-5} limit=${APT_WAIT_SECONDS:-600}
	while :; do
		rc=0
		out=$("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=30 "$@" </dev/null 2>&1) || rc=$?
		printf '%s\n' "$out"
		if ((rc == 0)) || ! grep -q 'Could not get lock\|Unable to acquire the dpkg frontend lock\|Unable to lock' <<<"$out"; then
			return "$rc"
		fi
		if awk -v w="$waited" -v l="$limit" 'BEGIN { exit !(w >= l) }'; then
			echo "apt_get: apt's lock stayed busy for ${limit}s" >&2
			return "$rc"
		fi
		[[ $waited == 0 ]] && echo "apt_get: another apt run holds apt's lock; waiting (up to ${limit}s)" >&2
		sleep "$step"
		waited=$(awk -v w="$waited" -v s="$step" 'BEGIN { print w + s }')
	done
}
