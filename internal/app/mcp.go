package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/mcpserver"
)

// mcp composes `ops-skill mcp`: the runtime every command uses (registry,
// guard, history, platform), in the MCP mode, served to one client over
// the process's standard input and output. Logs go to standard error.
func (d deps) mcp(ctx context.Context, cfg config.Config, o cli.MCPOptions) (err error) {
	cfg.Agent.Mode = string(o.Mode) // the runtime's preflight and prompt agree with the mode of the calls
	rt, err := d.newRuntime(ctx, cfg, cli.RuntimeOptions{Simulate: o.Simulate, Scenario: o.Scenario, Notify: o.Notify})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rt.Close()) }()
	log := mcpLogger(d.io.ErrOut, cfg.Serve.LogLevel)
	srv, err := newMCPServer(rt, cfg, o.Mode, log)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	log.Info("serving MCP on stdio", "platform", rt.Platform, "env", rt.Env, "mode", string(o.Mode), "stateDir", cfg.StateDir)
	return srv.ServeStdio(ctx, d.io.In, d.io.Out)
}

// mcpLogger writes JSON lines to w (standard error: standard output is the
// protocol's) at the configured level.
func mcpLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("service", "ops-skill-mcp")
}

// newMCPServer serves a runtime's tools, history and playbook over MCP in
// mode; `ops-skill mcp` and serve's /mcp share it.
func newMCPServer(rt *cli.Runtime, cfg config.Config, mode guard.Mode, log *slog.Logger) (*mcpserver.Server, error) {
	return mcpserver.New(mcpserver.Deps{
		Registry: rt.Registry, History: rt.Store, Parser: rt.Parser, Where: rt.Where, Env: rt.Env,
		Namespace: cfg.Kubernetes.Namespace, Now: rt.Now, Logger: log,
	}, mcpserver.Options{Mode: mode, MaxWrites: cfg.Agent.MaxWrites, Version: buildInfo().Version})
}

// serveMCP is serve's MCP endpoint in mode over the runtime serve acts
// with; nil when no mode is given (--mcp-mode off).
func serveMCP(rt *cli.Runtime, cfg config.Config, mode guard.Mode, log *slog.Logger) (http.Handler, error) {
	if mode == "" {
		return nil, nil
	}
	srv, err := newMCPServer(rt, cfg, mode, log.With("component", "mcp"))
	if err != nil {
		return nil, err
	}
	log.Info("MCP endpoint at /mcp", "mode", string(mode))
	return srv.Handler(), nil
}
