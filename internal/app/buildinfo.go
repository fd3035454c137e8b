package app

import (
	"runtime"
	"runtime/debug"

	"github.com/duet-company/ops-skill/internal/cli"
)

// Version, Commit and Date are set by release builds (Makefile, .goreleaser.yaml) with
//
//	-ldflags "-X github.com/duet-company/ops-skill/internal/app.Version=v1.2.3
//	          -X github.com/duet-company/ops-skill/internal/app.Commit=<full hash>
//	          -X github.com/duet-company/ops-skill/internal/app.Date=<commit time, RFC 3339>"
//
// Any left empty is taken from the Go build information (go install, go run).
var (
	Version string
	Commit  string
	Date    string
)

// stamp is what the linker set.
type stamp struct{ version, commit, date string }

// buildInfo describes the running binary.
func buildInfo() cli.BuildInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuild(stamp{Version, Commit, Date}, bi, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// resolveBuild prefers the linker's stamp, field by field, then the Go build
// information (the main module's version, vcs.revision with "-dirty" when
// vcs.modified, vcs.time), then placeholders. bi may be nil.
func resolveBuild(s stamp, bi *debug.BuildInfo, goVersion, platform string) cli.BuildInfo {
	b := cli.BuildInfo{Version: s.version, Commit: s.commit, Date: s.date, GoVersion: goVersion, Platform: platform}
	if bi != nil {
		vcs := map[string]string{}
		for _, kv := range bi.Settings {
			vcs[kv.Key] = kv.Value
		}
		if b.Version == "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		if b.Commit == "" && vcs["vcs.revision"] != "" {
			b.Commit = vcs["vcs.revision"]
			if vcs["vcs.modified"] == "true" {
				b.Commit += "-dirty"
			}
		}
		if b.Date == "" {
			b.Date = vcs["vcs.time"]
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
	}
	b.Version = orDefault(b.Version, "dev")
	b.Commit = orDefault(b.Commit, "unknown")
	b.Date = orDefault(b.Date, "unknown")
	return b
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
