//go:build unix

package file

import (
	"io/fs"
	"syscall"
)

// identity returns the device and inode of a file.
func identity(fi fs.FileInfo) devIno {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return devIno{Dev: uint64(st.Dev), Ino: uint64(st.Ino)} //nolint:unconvert // types differ by platform
	}
	return devIno{}
}

// links returns the number of names a file has; 0 once it was deleted.
func links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink) //nolint:unconvert // types differ by platform
	}
	return 1
}
