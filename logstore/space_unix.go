//go:build unix

package logstore

import "syscall"

// DiskSpace is the size and the space left to an unprivileged user of the file system
// holding path (Java's FileStore.getTotalSpace and getUsableSpace).
func (osFS) DiskSpace(path string) (total, usable int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	bs := int64(st.Bsize)
	return int64(st.Blocks) * bs, int64(st.Bavail) * bs, nil
}
