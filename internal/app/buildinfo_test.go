package app

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/cli"
)

const rev = "0123456789abcdef0123456789abcdef01234567"

func goBuild(version string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/duet-company/ops-skill", Version: version}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

func TestResolveBuild(t *testing.T) {
	released := stamp{"v1.2.3", rev, "2026-11-20T10:00:00Z"}
	vcs := []string{"vcs", "git", "vcs.revision", "fedcba9876543210fedcba9876543210fedcba98", "vcs.time", "2026-11-01T08:30:00Z", "vcs.modified", "false"}
	tests := []struct {
		name  string
		stamp stamp
		bi    *debug.BuildInfo
		want  cli.BuildInfo
	}{
		{"ldflags win over the build information", released, goBuild("v0.9.0", vcs...),
			cli.BuildInfo{Version: "v1.2.3", Commit: rev, Date: "2026-11-20T10:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"go install of a tagged module", stamp{}, goBuild("v1.4.0"),
			cli.BuildInfo{Version: "v1.4.0", Commit: "unknown", Date: "unknown", GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"go build in a clean checkout", stamp{}, goBuild("v0.0.0-20261101083000-fedcba987654", vcs...),
			cli.BuildInfo{Version: "v0.0.0-20261101083000-fedcba987654", Commit: "fedcba9876543210fedcba9876543210fedcba98",
				Date: "2026-11-01T08:30:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"go run with local changes", stamp{}, goBuild("(devel)", "vcs.revision", rev, "vcs.time", "2026-11-01T08:30:00Z", "vcs.modified", "true"),
			cli.BuildInfo{Version: "dev", Commit: rev + "-dirty", Date: "2026-11-01T08:30:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"built with -buildvcs=false", stamp{}, goBuild("(devel)"),
			cli.BuildInfo{Version: "dev", Commit: "unknown", Date: "unknown", GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"only the version stamped", stamp{version: "v2.0.0"}, goBuild("(devel)", vcs...),
			cli.BuildInfo{Version: "v2.0.0", Commit: "fedcba9876543210fedcba9876543210fedcba98", Date: "2026-11-01T08:30:00Z",
				GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"no build information at all", stamp{}, nil,
			cli.BuildInfo{Version: "dev", Commit: "unknown", Date: "unknown", GoVersion: "go1.0-runtime", Platform: "linux/amd64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveBuild(tt.stamp, tt.bi, "go1.0-runtime", "linux/amd64"); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestVersionCommandNeedsNoConfigOrState(t *testing.T) {
	h := newHarness(t)
	h.env["OPS_SKILL_MODE"] = "not-a-mode" // a broken config must not stop `version`
	if code := h.run("version", "-o", "json"); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, h.errOut.String())
	}
	var got cli.BuildInfo
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, h.out.String())
	}
	if got.GoVersion != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH || got.Version == "" || got.Commit == "" {
		t.Errorf("version -o json = %+v", got)
	}
	if code := h.run("--version"); code != 0 || !strings.HasPrefix(h.out.String(), "ops-skill version ") {
		t.Errorf("--version: exit %d, printed %q", code, h.out.String())
	}
}

func TestHelpNamesTheKubectlPluginWhenRunAsOne(t *testing.T) {
	tests := map[string]string{
		"/root/.krew/bin/kubectl-ops_skill": "kubectl ops-skill",
		"kubectl-ops_skill.exe":             "kubectl ops-skill",
		"/usr/bin/ops-skill":                "ops-skill",
		"":                                  "ops-skill",
	}
	for progName, want := range tests {
		root := &cobra.Command{Use: "ops-skill [ALERT TEXT | -]"}
		asKubectlPlugin(root, progName)
		if got := root.DisplayName(); got != want {
			t.Errorf("run as %q: display name %q, want %q", progName, got, want)
		}
	}
}
