package logstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MemFS is an in-memory FS that can crash (pebble's vfs.NewCrashableMem): Crash forgets every
// byte that was not fsynced and every file creation, rename or removal that its directory did
// not SyncDir. Directories themselves (MkdirAll, RemoveAll of a directory, Rename of a
// directory) are durable at once, which keeps the model small. Tests use CrashKeepTail to keep
// any number of unsynced tail bytes of one file (a crash "at every byte"), FlipByte to corrupt
// data, and Clone to replay one prepared state many times.
//
// Safe for concurrent use. Files opened before a Crash fail with os.ErrClosed afterwards.
type MemFS struct {
	mu      sync.Mutex
	gen     atomic.Int64
	dirs    map[string]bool
	cur     map[string]*memNode // the namespace as seen now
	durable map[string]*memNode // the namespace that survives a crash
	locks   map[string]bool
}

type memNode struct {
	mu     sync.Mutex
	data   []byte
	synced []byte
	mod    time.Time
}

// NewMemFS returns an empty MemFS.
func NewMemFS() *MemFS {
	return &MemFS{
		dirs:    map[string]bool{},
		cur:     map[string]*memNode{},
		durable: map[string]*memNode{},
		locks:   map[string]bool{},
	}
}

var _ FS = (*MemFS)(nil)
var _ Locker = (*MemFS)(nil)

func clean(p string) string { return filepath.Clean(p) }

func isRoot(p string) bool { return p == "." || p == "/" || p == string(filepath.Separator) }

func (m *MemFS) dirExists(p string) bool { return isRoot(p) || m.dirs[p] }

func under(p, dir string) bool {
	if isRoot(dir) {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// OpenFile implements FS.
func (m *MemFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	n := m.cur[name]
	if n == nil {
		if flag&os.O_CREATE == 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		if !m.dirExists(filepath.Dir(name)) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		n = &memNode{mod: time.Now()}
		m.cur[name] = n
	} else if flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	}
	if flag&os.O_TRUNC != 0 {
		n.mu.Lock()
		n.data = n.data[:0:0]
		n.mod = time.Now()
		n.mu.Unlock()
	}
	return &memFile{fs: m, n: n, name: name, gen: m.gen.Load(), flag: flag}, nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		for p := range m.cur {
			if under(p, name) {
				return &fs.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
			}
		}
		for d := range m.dirs {
			if d != name && under(d, name) {
				return &fs.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
			}
		}
		delete(m.dirs, name)
		return nil
	}
	if m.cur[name] == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.cur, name)
	return nil
}

// RemoveAll implements FS. Removing a directory is durable at once.
func (m *MemFS) RemoveAll(path string) error {
	path = clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[path] {
		delete(m.cur, path)
		return nil
	}
	for p := range m.cur {
		if under(p, path) {
			delete(m.cur, p)
		}
	}
	for p := range m.durable {
		if under(p, path) {
			delete(m.durable, p)
		}
	}
	for d := range m.dirs {
		if under(d, path) {
			delete(m.dirs, d)
		}
	}
	return nil
}

// Rename implements FS. Renaming a directory is durable at once; renaming a file is durable
// once the directories involved are synced.
func (m *MemFS) Rename(oldpath, newpath string) error {
	oldpath, newpath = clean(oldpath), clean(newpath)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[oldpath] {
		if m.dirs[newpath] || m.cur[newpath] != nil {
			return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrExist}
		}
		move := func(p string) string { return newpath + strings.TrimPrefix(p, oldpath) }
		for _, mp := range []map[string]*memNode{m.cur, m.durable} {
			for p, n := range mp {
				if under(p, oldpath) {
					delete(mp, p)
					mp[move(p)] = n
				}
			}
		}
		var ds []string
		for d := range m.dirs {
			if under(d, oldpath) {
				ds = append(ds, d)
			}
		}
		for _, d := range ds {
			delete(m.dirs, d)
			m.dirs[move(d)] = true
		}
		return nil
	}
	n := m.cur[oldpath]
	if n == nil {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	if m.dirs[newpath] || !m.dirExists(filepath.Dir(newpath)) {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrInvalid}
	}
	delete(m.cur, oldpath)
	m.cur[newpath] = n
	return nil
}

// MkdirAll implements FS. Directories are durable at once.
func (m *MemFS) MkdirAll(path string, perm os.FileMode) error {
	path = clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := path; !isRoot(p); p = filepath.Dir(p) {
		if m.cur[p] != nil {
			return &fs.PathError{Op: "mkdir", Path: p, Err: errors.New("not a directory")}
		}
		m.dirs[p] = true
	}
	return nil
}

// ReadDir implements FS.
func (m *MemFS) ReadDir(dir string) ([]fs.DirEntry, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirExists(dir) {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for p, n := range m.cur {
		if filepath.Dir(p) == dir {
			n.mu.Lock()
			out = append(out, memInfo{name: filepath.Base(p), size: int64(len(n.data)), mod: n.mod})
			n.mu.Unlock()
		}
	}
	for d := range m.dirs {
		if filepath.Dir(d) == dir && d != dir {
			out = append(out, memInfo{name: filepath.Base(d), dir: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Stat implements FS.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirExists(name) {
		return memInfo{name: filepath.Base(name), dir: true}, nil
	}
	n := m.cur[name]
	if n == nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return memInfo{name: filepath.Base(name), size: int64(len(n.data)), mod: n.mod}, nil
}

// SyncDir implements FS: the files now in dir, under their current names, survive a crash.
func (m *MemFS) SyncDir(dir string) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirExists(dir) {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: fs.ErrNotExist}
	}
	for p := range m.durable {
		if filepath.Dir(p) == dir && m.cur[p] == nil {
			delete(m.durable, p)
		}
	}
	for p, n := range m.cur {
		if filepath.Dir(p) == dir {
			m.durable[p] = n
		}
	}
	return nil
}

// Lock implements Locker.
func (m *MemFS) Lock(name string) (io.Closer, error) {
	f, err := m.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	f.Close()
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, fmt.Errorf("logstore: %s is locked", name)
	}
	m.locks[name] = true
	return memLock{m, name, m.gen.Load()}, nil
}

type memLock struct {
	m    *MemFS
	name string
	gen  int64
}

func (l memLock) Close() error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if l.m.gen.Load() == l.gen {
		delete(l.m.locks, l.name)
	}
	return nil
}

// Crash simulates a power loss: unsynced bytes and unsynced directory entries are lost, open
// files and locks become invalid.
func (m *MemFS) Crash() { m.CrashWith(nil) }

// CrashKeepTail is Crash, except that file name keeps up to n bytes written after its last
// Sync (as if the disk had written them before the power went).
func (m *MemFS) CrashKeepTail(name string, n int) { m.CrashWith(map[string]int{clean(name): n}) }

// CrashWith is Crash where each file named in keepTail keeps that many unsynced bytes past
// its synced length (capped at what was written).
func (m *MemFS) CrashWith(keepTail map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, k := range keepTail {
		n := m.cur[clean(name)]
		if n == nil {
			continue
		}
		n.mu.Lock()
		end := min(len(n.synced)+k, len(n.data))
		if end > len(n.synced) {
			keep := append([]byte(nil), n.synced...)
			n.synced = append(keep, n.data[len(n.synced):end]...)
		}
		n.mu.Unlock()
	}
	m.gen.Add(1)
	cur := make(map[string]*memNode, len(m.durable))
	for p, n := range m.durable {
		n.mu.Lock()
		n.data = append([]byte(nil), n.synced...)
		n.mu.Unlock()
		cur[p] = n
	}
	m.cur = cur
	m.locks = map[string]bool{}
}

// UnsyncedBytes is how many bytes of name were written past its synced length (0 when the
// file was rewritten in place).
func (m *MemFS) UnsyncedBytes(name string) int {
	m.mu.Lock()
	n := m.cur[clean(name)]
	m.mu.Unlock()
	if n == nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return max(0, len(n.data)-len(n.synced))
}

// FlipByte corrupts the byte at off of name (in its current and its synced content).
func (m *MemFS) FlipByte(name string, off int64) error {
	m.mu.Lock()
	n := m.cur[clean(name)]
	m.mu.Unlock()
	if n == nil {
		return &fs.PathError{Op: "flip", Path: name, Err: fs.ErrNotExist}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if off >= int64(len(n.data)) {
		return fmt.Errorf("logstore: flip %s at %d past its end %d", name, off, len(n.data))
	}
	n.data[off] ^= 0xff
	if off < int64(len(n.synced)) {
		n.synced[off] ^= 0xff
	}
	return nil
}

// Clone returns a deep copy of the file system's state (open files are not carried over).
func (m *MemFS) Clone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMemFS()
	copied := map[*memNode]*memNode{}
	cp := func(n *memNode) *memNode {
		if x := copied[n]; x != nil {
			return x
		}
		n.mu.Lock()
		x := &memNode{data: append([]byte(nil), n.data...), synced: append([]byte(nil), n.synced...), mod: n.mod}
		n.mu.Unlock()
		copied[n] = x
		return x
	}
	for p, n := range m.cur {
		c.cur[p] = cp(n)
	}
	for p, n := range m.durable {
		c.durable[p] = cp(n)
	}
	for d := range m.dirs {
		c.dirs[d] = true
	}
	return c
}

type memFile struct {
	fs     *MemFS
	n      *memNode
	name   string
	gen    int64
	flag   int
	off    int64 // for Write without O_APPEND
	closed atomic.Bool
}

func (f *memFile) check(op string) error {
	if f.closed.Load() || f.fs.gen.Load() != f.gen {
		return &fs.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	return nil
}

func (f *memFile) writable() bool { return f.flag&(os.O_WRONLY|os.O_RDWR) != 0 }

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) writeAtLocked(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		if end <= int64(cap(f.n.data)) {
			old := len(f.n.data)
			f.n.data = f.n.data[:end]
			clear(f.n.data[old:])
		} else {
			grown := make([]byte, end, max(end, 2*int64(cap(f.n.data))))
			copy(grown, f.n.data)
			f.n.data = grown
		}
	}
	copy(f.n.data[off:], p)
	f.n.mod = time.Now()
}

func (f *memFile) Write(p []byte) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.writable() {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if f.flag&os.O_APPEND != 0 {
		f.off = int64(len(f.n.data))
	}
	f.writeAtLocked(p, f.off)
	f.off += int64(len(p))
	return len(p), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.writable() || f.flag&os.O_APPEND != 0 {
		return 0, &fs.PathError{Op: "writeat", Path: f.name, Err: fs.ErrPermission}
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "writeat", Path: f.name, Err: fs.ErrInvalid}
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.writeAtLocked(p, off)
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.check("truncate"); err != nil {
		return err
	}
	if size < 0 || !f.writable() {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size]
	} else {
		f.writeAtLocked(make([]byte, size-int64(len(f.n.data))), int64(len(f.n.data)))
	}
	f.n.mod = time.Now()
	return nil
}

func (f *memFile) Sync() error {
	if err := f.check("sync"); err != nil {
		return err
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.n.synced = append(f.n.synced[:0:0], f.n.data...)
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.check("stat"); err != nil {
		return 0, err
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	return int64(len(f.n.data)), nil
}

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return &fs.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	return nil
}

type memInfo struct {
	name string
	size int64
	dir  bool
	mod  time.Time
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time         { return i.mod }
func (i memInfo) IsDir() bool                { return i.dir }
func (i memInfo) Sys() any                   { return nil }
func (i memInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i memInfo) Info() (fs.FileInfo, error) { return i, nil }
