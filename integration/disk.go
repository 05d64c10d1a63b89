// Small real filesystems as brokers' log dirs, to fill them: the disk-full faults of the
// full-disk test and the chaos campaign.

package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type diskSpec struct {
	size   string // tmpfs size=, as mount takes it: "24m"
	second bool   // also a log dir on the ordinary disk
}

// TmpfsLogDir puts broker id's log dir on a tmpfs of the given size (mount -t tmpfs -o
// size=SIZE), mounted before the broker first starts and unmounted when the cluster shuts
// down, so that filling it gives the broker real ENOSPC errors from the kernel. The test is
// skipped when this process may not mount (TmpfsPermitted says whether it may). With
// KLASSIK_TEST_KEEP the cluster directory is kept but the tmpfs, and the log in it, is not.
func TmpfsLogDir(id int32, size string) Option {
	return func(o *options) {
		if o.disks == nil {
			o.disks = map[int32]diskSpec{}
		}
		o.disks[id] = diskSpec{size: size}
	}
}

// TmpfsAndDiskLogDirs is TmpfsLogDir with a second log dir on the ordinary disk:
// log.dirs = "<tmpfs>/data,<broker dir>/data2" (Kafka's JBOD). When the tmpfs fills, the
// broker loses one log dir of two and keeps running.
func TmpfsAndDiskLogDirs(id int32, size string) Option {
	return func(o *options) {
		if o.disks == nil {
			o.disks = map[int32]diskSpec{}
		}
		o.disks[id] = diskSpec{size: size, second: true}
	}
}

// tmpfs is one mounted tmpfs: the log dir is data/ in it, the filler file beside it.
type tmpfs struct {
	mount string
	size  string
}

func (d *tmpfs) filler() string { return filepath.Join(d.mount, "filler") }

// TmpfsPermitted reports whether this process may mount a tmpfs (it runs as root, outside a
// container that forbids mount), with the reason when it may not.
func TmpfsPermitted() (bool, string) {
	dir, err := os.MkdirTemp("", "klassik-mount-probe-")
	if err != nil {
		return false, err.Error()
	}
	defer os.Remove(dir)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		return false, fmt.Sprintf("mount -t tmpfs: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		return false, fmt.Sprintf("umount: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return true, ""
}

// mountLogDir mounts the broker's tmpfs at <broker dir>/tmpfs and points its log.dirs there.
func (c *Cluster) mountLogDir(b *Broker, spec diskSpec) {
	c.t.Helper()
	if ok, why := TmpfsPermitted(); !ok {
		c.t.Skipf("a tmpfs log dir needs permission to mount (run as root): %s", why)
	}
	d := &tmpfs{mount: filepath.Join(b.Dir, "tmpfs"), size: spec.size}
	if err := os.MkdirAll(d.mount, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+spec.size, "tmpfs", d.mount).CombinedOutput(); err != nil {
		c.t.Fatalf("mount -t tmpfs -o size=%s tmpfs %s: %v: %s", spec.size, d.mount, err, out)
	}
	b.disk = d
	b.logDirs = []string{filepath.Join(d.mount, "data")}
	if spec.second {
		b.logDirs = append(b.logDirs, filepath.Join(b.Dir, "data2"))
	}
}

// unmount unmounts the broker's tmpfs; its processes must be gone.
func (b *Broker) unmount() error {
	if b.disk == nil {
		return nil
	}
	var out []byte
	var err error
	for range 50 { // EBUSY while the kernel finishes closing a killed process's files
		if out, err = exec.Command("umount", b.disk.mount).CombinedOutput(); err == nil {
			b.disk = nil
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("umount %s: %v: %s", b.disk.mount, err, out)
}

// Tmpfs returns the mount point of the broker's tmpfs log dir ("" without one).
func (b *Broker) Tmpfs() string {
	if b.disk == nil {
		return ""
	}
	return b.disk.mount
}

// DiskFree is the free bytes of the filesystem holding the broker's first log dir.
func (b *Broker) DiskFree() (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(b.LogDir(), &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// FillLogDir fills the broker's tmpfs log dir with a filler file beside the log dir (as
// another program filling the disk would) until at most leave bytes are free: the broker's
// next writes that need space fail with ENOSPC. It returns the filler's size.
func (c *Cluster) FillLogDir(id int32, leave int64) int64 {
	c.t.Helper()
	b := c.Broker(id)
	if b.disk == nil {
		c.t.Fatalf("FillLogDir(%d): the broker has no tmpfs log dir (TmpfsLogDir)", id)
	}
	f, err := os.OpenFile(b.disk.filler(), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		c.t.Fatal(err)
	}
	size := fi.Size()
	// fallocate reserves pages without writing them; on tmpfs it is all or nothing, and the
	// broker takes space meanwhile, so a chunk that no longer fits is retried smaller until
	// not even a page fits.
	const page = 4096
	for chunk := int64(64 << 20); chunk >= page; {
		free, err := b.DiskFree()
		if err != nil {
			c.t.Fatal(err)
		}
		n := min(chunk, free-leave)
		if n < page {
			break
		}
		err = syscall.Fallocate(int(f.Fd()), 0, size, n)
		switch {
		case err == nil:
			size += n
		case errors.Is(err, syscall.ENOSPC):
			chunk = n / 2
		default:
			c.t.Fatalf("FillLogDir(%d): fallocate %d bytes at %d: %v", id, n, size, err)
		}
	}
	return size
}

// FreeLogDir deletes the filler FillLogDir wrote.
func (c *Cluster) FreeLogDir(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if b.disk == nil {
		return
	}
	if err := os.Remove(b.disk.filler()); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.t.Fatal(err)
	}
}

// ExpectExit tells the harness that broker id may exit on its own from now on (a broker
// whose last log dir fails halts, as Kafka does): neither the cluster's polling nor its
// shutdown treats that exit as a failure. StartBroker clears it.
func (c *Cluster) ExpectExit(id int32) {
	c.t.Helper()
	c.Broker(id).wantRunning = false
}

// WaitExit waits up to timeout for broker id, which ExpectExit allowed to exit, to exit
// and returns its exit code, failing t if it is still running.
func (c *Cluster) WaitExit(t testing.TB, id int32, timeout time.Duration) int {
	t.Helper()
	code, ok := c.Broker(id).Wait(timeout)
	if !ok {
		t.Fatalf("broker %d still runs %v later", id, timeout)
	}
	return code
}
