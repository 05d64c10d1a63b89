package logstore

import (
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
)

// FaultFS wraps an FS (usually a MemFS) and injects I/O errors, for tests of what the log does
// when a disk fails (KIP-112): the Nth write, fsync or read of a matching file fails with EIO,
// or writes fail with ENOSPC once a byte budget is spent (a full disk: the write that crosses
// the limit stores what fits and reports ENOSPC, as write(2) does). Safe for concurrent use.
//
// Counting starts when a fault is armed; an armed Nth-operation fault fires once. A space
// limit stays until SetSpace(-1).
type FaultFS struct {
	FS

	mu        sync.Mutex
	match     string // only files whose path contains it are affected ("" = all)
	failWrite int    // countdown: the write that brings it to 0 fails
	failSync  int
	failRead  int
	space     int64 // bytes writes may still add; -1 unlimited
	injected  int   // faults fired so far
}

// NewFaultFS wraps inner with no fault armed.
func NewFaultFS(inner FS) *FaultFS { return &FaultFS{FS: inner, space: -1} }

// Match restricts the faults to files whose path contains s ("" = every file).
func (f *FaultFS) Match(s string) {
	f.mu.Lock()
	f.match = s
	f.mu.Unlock()
}

// FailNthWrite makes the nth write (Write or WriteAt, counted from now) fail with EIO.
func (f *FaultFS) FailNthWrite(n int) { f.arm(&f.failWrite, n) }

// FailNthSync makes the nth fsync (File.Sync or SyncDir) fail with EIO.
func (f *FaultFS) FailNthSync(n int) { f.arm(&f.failSync, n) }

// FailNthRead makes the nth ReadAt fail with EIO.
func (f *FaultFS) FailNthRead(n int) { f.arm(&f.failRead, n) }

// SetSpace lets writes add at most n more bytes, then fail with ENOSPC; -1 is unlimited.
func (f *FaultFS) SetSpace(n int64) {
	f.mu.Lock()
	f.space = n
	f.mu.Unlock()
}

// Injected is the number of faults fired so far.
func (f *FaultFS) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

func (f *FaultFS) arm(counter *int, n int) {
	f.mu.Lock()
	*counter = n
	f.mu.Unlock()
}

// fire counts one operation on name against counter and reports whether it must fail.
func (f *FaultFS) fire(counter *int, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *counter <= 0 || !strings.Contains(name, f.match) {
		return false
	}
	*counter--
	if *counter == 0 {
		f.injected++
		return true
	}
	return false
}

// allow returns how many of n bytes written to name fit in the remaining space.
func (f *FaultFS) allow(name string, n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.space < 0 || !strings.Contains(name, f.match) {
		return n
	}
	if int64(n) <= f.space {
		f.space -= int64(n)
		return n
	}
	fit := int(f.space)
	f.space = 0
	f.injected++
	return fit
}

func (f *FaultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	inner, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: inner, fs: f, name: name}, nil
}

func (f *FaultFS) SyncDir(dir string) error {
	if f.fire(&f.failSync, dir) {
		return &fs.PathError{Op: "sync", Path: dir, Err: syscall.EIO}
	}
	return f.FS.SyncDir(dir)
}

// Lock passes through to the inner FS's Locker when it has one.
func (f *FaultFS) Lock(name string) (io.Closer, error) {
	if lk, ok := f.FS.(Locker); ok {
		return lk.Lock(name)
	}
	return f.FS.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}

type faultFile struct {
	File
	fs   *FaultFS
	name string
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.fs.fire(&f.fs.failWrite, f.name) {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: syscall.EIO}
	}
	fit := f.fs.allow(f.name, len(p))
	n, err := f.File.Write(p[:fit])
	if err == nil && fit < len(p) {
		err = &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	return n, err
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fs.fire(&f.fs.failWrite, f.name) {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: syscall.EIO}
	}
	fit := f.fs.allow(f.name, len(p))
	n, err := f.File.WriteAt(p[:fit], off)
	if err == nil && fit < len(p) {
		err = &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	return n, err
}

func (f *faultFile) Sync() error {
	if f.fs.fire(&f.fs.failSync, f.name) {
		return &fs.PathError{Op: "sync", Path: f.name, Err: syscall.EIO}
	}
	return f.File.Sync()
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if f.fs.fire(&f.fs.failRead, f.name) {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: syscall.EIO}
	}
	return f.File.ReadAt(p, off)
}
