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

func TestServeFlagsReachTheFactory(t *testing.T) {
	var got ServeOptions
	f := &Factory{IO: Test(strings.NewReader(""), nil, nil),
		LoadConfig: func(string, *pflag.FlagSet) (config.Config, error) { return config.Defaults(), nil },
		Serve: func(_ context.Context, _ config.Config, o ServeOptions) error {
			got = o
			return nil
		}}
	root := NewRoot(f, BuildInfo{Version: "test"})
	root.SetArgs([]string{"serve", "--simulate", "--scenario", "high-cpu", "--auth-token-file", "tok", "--listen", ":9999",
		"--scale-workload", "ai-data-labs/backend", "--scale-workload", "frontend", "--leader-election", "lease",
		"--lease-duration", "6s", "--renew-deadline", "4s", "--retry-period", "1s", "--queue-size", "9"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !got.Simulate || got.Scenario != "high-cpu" || got.TokenFile != "tok" || got.Listen != ":9999" || got.QueueSize != 9 ||
		strings.Join(got.ScaleWorkloads, ",") != "ai-data-labs/backend,frontend" || got.LeaderElection != LeaderElectionLease ||
		got.LeaseDuration != 6*time.Second || got.RenewDeadline != 4*time.Second || got.RetryPeriod != time.Second {
		t.Fatalf("options %+v", got)
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
				LoadConfig: func(string, *pflag.FlagSet) (config.Config, error) { return config.Defaults(), nil },
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
