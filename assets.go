// Package opsskill embeds the data files that the binary needs at run time:
// the simulated platform's scenarios kept under testdata/scenarios.
package opsskill

import (
	"embed"
	"io/fs"
)

//go:embed testdata/scenarios/*.yaml
var scenarios embed.FS

// Scenarios returns the embedded scenario files, rooted at testdata/scenarios.
func Scenarios() fs.FS {
	sub, err := fs.Sub(scenarios, "testdata/scenarios")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory exists
	}
	return sub
}
