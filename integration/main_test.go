package integration

import (
	"fmt"
	"os"
	"testing"
)

// TestMain builds the klassik binary once for the whole run (or takes KLASSIK_BIN).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "klassik-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
	bin, err := buildKlassik(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: building klassik:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	klassikBin = bin
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
