//go:build !unix

package logstore

import (
	"io"
	"os"
)

// lockFile creates name; platforms without flock get no exclusion.
func lockFile(name string) (io.Closer, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}
