package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// BuildInfo says which build of ops-skill is running. internal/app fills it
// from the release's ldflags or, without them, from the Go build information.
type BuildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"` // the commit's time (RFC 3339), so a rebuild of a commit says the same
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"` // GOOS/GOARCH
}

// Text is the human form printed by `ops-skill version` and `--version`.
func (b BuildInfo) Text() string {
	return fmt.Sprintf("ops-skill version %s\ncommit:   %s\ndate:     %s\ngo:       %s\nplatform: %s\n",
		b.Version, b.Commit, b.Date, b.GoVersion, b.Platform)
}

// versionTemplate is cobra's --version template printing Text as it is.
func (b BuildInfo) versionTemplate() string {
	return strings.ReplaceAll(b.Text(), "{{", `{{"{{"}}`)
}

func newVersionCmd(f *Factory, root *rootOptions, build BuildInfo) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go version and platform",
		Long: `Print the version, commit, commit date, Go version and platform of this build.
-o json prints one object: {"version","commit","date","goVersion","platform"}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := root.checkOutput(); err != nil {
				return err
			}
			if root.output == "json" {
				return writeJSON(f.IO.Out, build)
			}
			_, err := fmt.Fprint(f.IO.Out, build.Text())
			return err
		},
	}
}
