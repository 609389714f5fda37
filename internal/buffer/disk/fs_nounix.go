//go:build !unix

package disk

import "os"

// lockDir is a no-op where advisory locks are not available.
func lockDir(string) (*os.File, error) { return nil, nil }

// syncDir is a no-op where directories cannot be synced.
func syncDir(string) error { return nil }
