package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/config"
)

// realLoader is the configuration loader with an empty environment but a HOME.
func realLoader(t *testing.T) func(string, *pflag.FlagSet) (config.Config, error) {
	home := t.TempDir()
	env := func(k string) (string, bool) {
		if k == "HOME" {
			return home, true
		}
		return "", false
	}
	return func(file string, flags *pflag.FlagSet) (config.Config, error) {
		return config.Load(config.LoadOptions{ConfigFile: file, Env: env, Flags: flags})
	}
}

// Serve's flags are keys of the configuration's serve section: they reach
// serve through the loader, like the file and OPS_SKILL_SERVE_* variables.
func TestServeFlagsReachTheFactory(t *testing.T) {
	var got ServeOptions
	var cfg config.Config
	f := &Factory{IO: Test(strings.NewReader(""), nil, nil), LoadConfig: realLoader(t),
		Serve: func(_ context.Context, c config.Config, o ServeOptions) error {
			got, cfg = o, c
			return nil
		}}
	root := NewRoot(f, BuildInfo{Version: "test"})
	root.SetArgs([]string{"serve", "--simulate", "--scenario", "high-cpu", "--auth-token-file", "tok", "--listen", ":9999",
		"--scale-workload", "ai-data-labs/backend", "--scale-workload", "frontend", "--leader-election", "lease",
		"--lease-duration", "6s", "--renew-deadline", "4s", "--retry-period", "1s", "--queue-size", "9", "--no-health-loop", "--max-body-bytes", "2Mi"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := cfg.Serve
	if !got.Simulate || got.Scenario != "high-cpu" || s.AuthTokenFile != "tok" || s.Listen != ":9999" || s.QueueSize != 9 ||
		strings.Join(s.ScaleWorkloads, ",") != "ai-data-labs/backend,frontend" || s.LeaderElection != config.LeaderElectionLease ||
		s.LeaseDuration != 6*time.Second || s.RenewDeadline != 4*time.Second || s.RetryPeriod != time.Second ||
		s.HealthLoop || s.MaxBodyBytes != 2<<20 || s.Workers != 2 {
		t.Fatalf("options %+v, serve %+v", got, s)
	}
	if src := cfg.Source("serve.listen"); src != config.SourceFlag {
		t.Errorf("serve.listen came from %s, want the flag", src)
	}
}

func TestServeRefusesToStartUnsafelyOrWrongly(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no credentials", []string{"serve"}, "--auth-token-file"},
		{"unknown election", []string{"serve", "--allow-anonymous", "--leader-election", "raft"}, "--leader-election"},
		{"unknown log level", []string{"serve", "--allow-anonymous", "--log-level", "loud"}, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			f := &Factory{IO: Test(strings.NewReader(""), nil, nil),
				LoadConfig: realLoader(t),
				Serve:      func(context.Context, config.Config, ServeOptions) error { called = true; return nil }}
			root := NewRoot(f, BuildInfo{Version: "test"})
			root.SetArgs(tt.args)
			err := root.ExecuteContext(context.Background())
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want a usage error naming %s", err, tt.want)
			}
			if called {
				t.Error("serve started")
			}
		})
	}
}
