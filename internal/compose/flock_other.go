//go:build !unix

package compose

import "os"

// Without flock, runs take turns within one process only.
func flock(*os.File) error   { return nil }
func funlock(*os.File) error { return nil }
