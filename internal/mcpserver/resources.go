package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/duet-company/ops-skill/internal/store"
)

// History is what the resources read: the history store (*store.Store).
type History interface {
	GetIncident(ctx context.Context, id string) (store.Incident, []store.TimelineEntry, error)
	ListIncidents(ctx context.Context, openOnly bool, limit int) ([]store.Incident, error)
	ListRecentToolCalls(ctx context.Context, f store.CallFilter) ([]store.ToolCallRecord, error)
	ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.AlertRecord, error)
}

// The resources' addresses.
const (
	IncidentTemplate = "incident://{id}"
	IncidentScheme   = "incident://"
	HistoryIncidents = "history://incidents"
	HistoryActions   = "history://actions"
	HistoryAlerts    = "history://alerts"
)

// historyLimit is how many entries a history resource lists, newest first.
const historyLimit = 100

const mimeJSON = "application/json"

// IncidentView is an incident with its timeline (incident://ID).
type IncidentView struct {
	Incident store.Incident        `json:"incident"`
	Timeline []store.TimelineEntry `json:"timeline"`
}

func (s *Server) addResources() {
	if s.d.History == nil {
		return
	}
	s.sdk.AddResourceTemplate(&sdk.ResourceTemplate{URITemplate: IncidentTemplate, Name: "incident", MIMEType: mimeJSON,
		Description: "An incident ops-skill opened (INC-YYYY-MM-DD-NNN) with its timeline"}, s.readIncident)
	for _, r := range []struct {
		uri, name, desc string
		read            func(context.Context) (any, error)
	}{
		{HistoryIncidents, "incidents", "The newest incidents of this platform, open or not", s.incidents},
		{HistoryActions, "actions", "The newest tool calls on this platform, with the guard's verdict and rule (the audit trail)", s.actions},
		{HistoryAlerts, "alerts", "The newest alerts handled on this platform and their outcome", s.alerts},
	} {
		s.sdk.AddResource(&sdk.Resource{URI: r.uri, Name: r.name, Description: r.desc, MIMEType: mimeJSON}, jsonResource(r.uri, r.read))
	}
}

func (s *Server) readIncident(ctx context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	uri := req.Params.URI
	id, ok := strings.CutPrefix(uri, IncidentScheme)
	if !ok || id == "" {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	in, tl, err := s.d.History.GetIncident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", uri, err)
	}
	return jsonContents(uri, IncidentView{Incident: in, Timeline: tl})
}

func (s *Server) incidents(ctx context.Context) (any, error) {
	all, err := s.d.History.ListIncidents(ctx, false, historyLimit)
	if err != nil {
		return nil, err
	}
	mine := make([]store.Incident, 0, len(all))
	for _, in := range all {
		if in.Env == s.d.Env {
			mine = append(mine, in)
		}
	}
	return mine, nil
}

func (s *Server) actions(ctx context.Context) (any, error) {
	calls, err := s.d.History.ListRecentToolCalls(ctx, store.CallFilter{Env: s.d.Env, Limit: historyLimit})
	return orEmpty(calls), err
}

func (s *Server) alerts(ctx context.Context) (any, error) {
	recs, err := s.d.History.ListAlerts(ctx, store.AlertFilter{Env: s.d.Env, Limit: historyLimit})
	return orEmpty(recs), err
}

// orEmpty lists nothing as [], not null.
func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// jsonResource serves what read returns as the JSON contents of uri.
func jsonResource(uri string, read func(context.Context) (any, error)) sdk.ResourceHandler {
	return func(ctx context.Context, _ *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
		v, err := read(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", uri, err)
		}
		return jsonContents(uri, v)
	}
}

func jsonContents(uri string, v any) (*sdk.ReadResourceResult, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", uri, err)
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{{URI: uri, MIMEType: mimeJSON, Text: string(b)}}}, nil
}
