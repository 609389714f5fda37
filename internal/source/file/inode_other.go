//go:build !unix

package file

import "io/fs"

// identity returns a zero identity where the platform has no inodes; files
// are then told apart by their fingerprint alone.
func identity(fs.FileInfo) devIno { return devIno{} }

// links reports one name: deletion cannot be told from renaming here.
func links(fs.FileInfo) uint64 { return 1 }
