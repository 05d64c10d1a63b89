package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAptWaitsForItsLock: scripts/apt-lib.sh's apt_get, which `make test` (install-deps.sh)
// and `make up` (the ZooKeeper image's build) install packages with, waits while another
// apt run holds apt's lock instead of failing, and fails at once on any other error. A fake
// apt-get on PATH answers "Could not get lock" twice, then succeeds.
func TestAptWaitsForItsLock(t *testing.T) {
	lib, err := filepath.Abs("../scripts/apt-lib.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fake := `#!/bin/sh
n=$(cat "$0.calls" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$0.calls"
case "$*" in *broken*) echo "E: Unable to locate package broken" >&2; exit 100 ;; esac
if [ "$n" -le 2 ]; then
	echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
	exit 100
fi
echo "installed: $*"
`
	if err := os.WriteFile(filepath.Join(dir, "apt-get"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args string) (string, error) {
		os.Remove(filepath.Join(dir, "apt-get.calls"))
		cmd := exec.Command("bash", "-c", `set -euo pipefail; SUDO=(); . "$LIB"; apt_get `+args)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "LIB="+lib, "APT_WAIT_STEP=0.05", "APT_WAIT_SECONDS=5")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	calls := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "apt-get.calls"))
		return strings.TrimSpace(string(b))
	}

	out, err := run("install -y kcat")
	if err != nil || calls() != "3" || !strings.Contains(out, "waiting") || !strings.Contains(out, "installed: -o DPkg::Lock::Timeout=30 install -y kcat") {
		t.Fatalf("busy lock twice: err %v, %s calls, output:\n%s", err, calls(), out)
	}
	out, err = run("install -y broken")
	if err == nil || calls() != "1" || strings.Contains(out, "waiting") {
		t.Fatalf("another error fails at once: err %v, %s calls, output:\n%s", err, calls(), out)
	}
}
