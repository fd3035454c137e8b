package eval

import (
	"embed"
	"io/fs"
)

// The built-in scripted models, one NAME.yaml each (see ScriptedModels).
//
//go:embed models/*.yaml
var models embed.FS

// Models returns the built-in scripted models, rooted at their directory.
func Models() fs.FS {
	sub, err := fs.Sub(models, "models")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory exists
	}
	return sub
}
