package app

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/health"
)

func TestHealthWithoutAClusterNamesWhatTheDefaultMatrixNeeds(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"default namespace", nil, []string{"no cluster configured", "backend.ai-data-labs.svc", "redis.ai-data-labs.svc", "--matrix FILE", "--simulate"}},
		{"NAMESPACE", map[string]string{"NAMESPACE": "shop"}, []string{"backend.shop.svc", "--matrix FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for k, v := range tt.env {
				h.env[k] = v
			}
			if code := h.run("health"); code != cli.ExitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, cli.ExitUsage, h.errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(h.errOut.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, h.errOut.String())
				}
			}
			if strings.Contains(h.errOut.String(), "lookup") || h.out.Len() != 0 {
				t.Errorf("names were looked up:\n%s%s", h.out.String(), h.errOut.String())
			}
		})
	}
}

func TestHealthWithAMatrixNeedsNoCluster(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	file := filepath.Join(t.TempDir(), "matrix.yaml")
	if err := os.WriteFile(file, []byte("- {service: redis, type: tcp, target: \""+l.Addr().String()+"\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	if code := h.run("health", "--matrix", file); code != cli.ExitOK || !strings.Contains(h.out.String(), "redis") {
		t.Errorf("exit %d:\n%s%s", code, h.out.String(), h.errOut.String())
	}
}

func TestATypoOpensNoIncidentAndRecordsNothing(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"helth"}, {"incidnets"}, {"verison"}, {"tools", "lst"}, {"config", "shw"}, {"incident", "shwo"}, {"--simualte", "x y"}} {
		if code := h.run(args...); code != cli.ExitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, cli.ExitUsage, h.errOut.String())
		}
		if h.out.Len() != 0 {
			t.Errorf("%q printed:\n%s", args, h.out.String())
		}
	}
	if code := h.run("--alert-history"); code != cli.ExitOK || strings.Count(h.out.String(), "\n") > 1 {
		t.Errorf("history after typos (exit %d):\n%s", code, h.out.String())
	}
	if code := h.run("incidents"); code != cli.ExitOK || strings.Contains(h.out.String(), "INC-") {
		t.Errorf("incidents after typos (exit %d):\n%s", code, h.out.String())
	}
}

// A run's health matrix is HEALTH_MATRIX_FILE's when set (a workstation
// reaches the services at other addresses than the in-cluster names), else
// the default one for the namespace; a file that cannot be read is named.
func TestRunMatrixIsTheConfiguredFileOrTheDefault(t *testing.T) {
	file := filepath.Join(t.TempDir(), "matrix.yaml")
	if err := os.WriteFile(file, []byte("- {service: clickhouse, type: http, target: \"http://127.0.0.1:8123/ping\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, wantTarget, wantErr string
		wantChecks                      int
	}{
		{name: "unset: the default matrix", wantTarget: "backend.shop.svc", wantChecks: len(health.DefaultMatrix("shop", 0))},
		{name: "the file's checks alone", file: file, wantTarget: "http://127.0.0.1:8123/ping", wantChecks: 1},
		{name: "a missing file", file: file + ".missing", wantErr: "HEALTH_MATRIX_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.SelfHealing.HealthMatrixFile = tt.file
			m, err := runMatrix(cfg, "shop")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(m) != tt.wantChecks || !strings.Contains(m[0].Target, tt.wantTarget) {
				t.Fatalf("matrix %+v, %v; want %d checks, the first at %s", m, err, tt.wantChecks, tt.wantTarget)
			}
		})
	}
}

// An incident is resolved by hand with a note: its status, its timeline and
// the open listing say so; again changes nothing; bad input is a usage
// error that names the fix and writes nothing.
func TestAnIncidentIsResolvedByHandWithANote(t *testing.T) {
	h := newHarness(t)
	if code := h.run(oomAlert); code != cli.ExitUnresolved {
		t.Fatalf("the OOM incident: exit %d\n%s", code, h.errOut.String())
	}
	const id = "INC-2026-02-16-001"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"incident", "resolve", id}, "--note is required"},
		{[]string{"incident", "resolve", id, "--note", "  "}, "--note is required"},
		{[]string{"incident", "resolve", "INC-2026-02-16-404", "--note", "x"}, "'ops-skill incidents --open' lists the open ones"},
	} {
		if code := h.run(tt.args...); code != cli.ExitUsage || !strings.Contains(h.errOut.String(), tt.want) || h.out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", tt.args, code, h.out.String(), h.errOut.String(), cli.ExitUsage, tt.want)
		}
	}
	if code := h.run("incidents", "--open"); code != cli.ExitOK || !strings.Contains(h.out.String(), id) {
		t.Fatalf("open incidents after the refused resolves (exit %d):\n%s", code, h.out.String())
	}

	if code := h.run("incident", "resolve", id, "--note", "leak fixed in 24.3.2;\nmemory flat for 2h"); code != cli.ExitOK ||
		h.out.String() != "Resolved "+id+" (it was mitigated)\n" {
		t.Fatalf("resolve: exit %d, %q %s", code, h.out.String(), h.errOut.String())
	}
	if code := h.run("incident", "show", id, "-o", "json"); code != cli.ExitOK {
		t.Fatalf("show: exit %d %s", code, h.errOut.String())
	}
	var shown struct {
		Status   string `json:"status"`
		Timeline []struct{ Kind, Text string }
	}
	if err := json.Unmarshal(h.out.Bytes(), &shown); err != nil {
		t.Fatal(err)
	}
	last := shown.Timeline[len(shown.Timeline)-1]
	if shown.Status != "resolved" || last.Kind != "resolved" || last.Text != "resolved by hand: leak fixed in 24.3.2; memory flat for 2h" {
		t.Errorf("incident after resolve: status %s, last timeline entry %+v", shown.Status, last)
	}
	if code := h.run("incidents", "--open"); code != cli.ExitOK || strings.Contains(h.out.String(), id) {
		t.Errorf("open incidents after resolve (exit %d):\n%s", code, h.out.String())
	}

	code := h.run("incident", "resolve", id, "--note", "again", "-o", "json")
	var again map[string]any
	if err := json.Unmarshal(h.out.Bytes(), &again); err != nil || code != cli.ExitOK {
		t.Fatalf("resolve again: exit %d, %q: %v", code, h.out.String(), err)
	}
	if want := map[string]any{"id": id, "status": "resolved", "was": "resolved", "changed": false}; !reflect.DeepEqual(again, want) {
		t.Errorf("resolve again: %v, want %v", again, want)
	}
}
