//go:build unix

package logstore

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// lockFile takes a non-blocking exclusive flock on name, creating it if needed.
func lockFile(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("logstore: %s is locked by another process: %w", name, err)
	}
	return f, nil
}
