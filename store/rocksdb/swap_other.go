//go:build !linux

package rocksdb

// exchange is not available: the swap takes two renames.
func exchange(a, b string) (bool, error) { return false, nil }
