// Command ops-skill diagnoses, acts on and verifies infrastructure alerts.
package main

import (
	"os"

	"github.com/duet-company/ops-skill/internal/app"
)

func main() { os.Exit(app.Main()) }
