package sim

import (
	"embed"
	"io/fs"
)

// The simulated platform's scenarios, one NAME.yaml each (see Scenario).
//
//go:embed scenarios/*.yaml
var scenarios embed.FS

// Scenarios returns the built-in scenarios, rooted at their directory.
func Scenarios() fs.FS {
	sub, err := fs.Sub(scenarios, "scenarios")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory exists
	}
	return sub
}
