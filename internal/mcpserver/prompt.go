package mcpserver

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/duet-company/ops-skill/internal/alert"
)

// PromptIncident is the name of the incident playbook prompt.
const PromptIncident = "incident"

//go:embed playbook.tmpl
var playbookText string

var playbook = template.Must(template.New("playbook").Option("missingkey=error").Parse(playbookText))

// playbookData is what the playbook template says about one alert.
type playbookData struct {
	Where, Mode, ModeNote, Text, Guardrails, Incident string
	Kind, Subject, Alertname, Family, Action, Runbook string
	Act                                               string
	Disk                                              bool
}

func (s *Server) addPrompts() {
	s.sdk.AddPrompt(&sdk.Prompt{Name: PromptIncident, Title: "Incident playbook",
		Description: "How to handle an alert with these tools: what ops-skill parsed from it, the playbook of its kind, the guardrails in force and the mode",
		Arguments: []*sdk.PromptArgument{
			{Name: "alert", Description: "the alert: its text, or an Alertmanager webhook payload (JSON)", Required: true},
			{Name: "incident", Description: "an incident it belongs to (INC-YYYY-MM-DD-NNN), if any"},
		}}, s.getIncidentPrompt)
}

func (s *Server) getIncidentPrompt(_ context.Context, req *sdk.GetPromptRequest) (*sdk.GetPromptResult, error) {
	a, err := s.parseAlert(req.Params.Arguments["alert"])
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %w", PromptIncident, err)
	}
	text, err := s.renderPlaybook(a, strings.TrimSpace(req.Params.Arguments["incident"]))
	if err != nil {
		return nil, err
	}
	return &sdk.GetPromptResult{Description: "ops-skill's playbook for: " + a.Text,
		Messages: []*sdk.PromptMessage{{Role: "user", Content: &sdk.TextContent{Text: text}}}}, nil
}

// parseAlert reads the prompt's alert as the CLI reads one: an Alertmanager
// payload (its first firing alert) or free text.
func (s *Server) parseAlert(raw string) (alert.Alert, error) {
	now := s.d.Now()
	if t := strings.TrimSpace(raw); strings.HasPrefix(t, "{") {
		wh, err := alert.DecodeWebhook([]byte(t), false)
		if err != nil {
			return alert.Alert{}, err
		}
		as, err := s.d.Parser.ParseWebhook(wh, now)
		if err != nil {
			return alert.Alert{}, err
		}
		return as[0], nil
	}
	return s.d.Parser.ParseText(raw, now)
}

func (s *Server) renderPlaybook(a alert.Alert, incident string) (string, error) {
	c := a.Classification
	d := playbookData{Where: s.d.Where.String(), Mode: string(s.o.Mode), ModeNote: modeNote(s.o.Mode), Text: a.Text,
		Guardrails: s.d.Registry.Policy().Sentence(), Incident: incident,
		Kind: string(a.Kind), Subject: subjectOf(a), Alertname: c.Alertname, Family: string(c.Family), Action: string(actionOf(a)), Runbook: c.Runbook,
		Act: act(a), Disk: a.Kind == alert.KindDisk || a.Kind == alert.KindVolume}
	var b bytes.Buffer
	if err := playbook.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render the incident playbook: %w", err)
	}
	return strings.TrimSpace(b.String()), nil
}

func subjectOf(a alert.Alert) string {
	if t := a.Target(); t != "" {
		return t
	}
	return a.Classification.Subject.String()
}

// actionOf is the classification's action; text alerts have none, and get
// the playbook of their kind when it has one.
func actionOf(a alert.Alert) alert.Action {
	switch {
	case a.Classification.Action != "":
		return a.Classification.Action
	case a.Kind.HasPlaybook():
		return alert.ActionPlaybook
	}
	return alert.ActionDiagnose
}

// act is the step of the playbook that may write, by the alert's action and kind.
func act(a alert.Alert) string {
	switch actionOf(a) {
	case alert.ActionNoOp:
		return "This alert fires by design: do nothing and page nobody."
	case alert.ActionDiagnose:
		return "This alert is diagnose-only: no write of ops-skill fixes it. Read, then escalate with the evidence (createIncident, notify); never write."
	}
	if s, ok := kindSteps[a.Kind]; ok {
		return s
	}
	return "No playbook for this kind: diagnose and escalate with the evidence; write only on clear evidence."
}

var kindSteps = map[alert.Kind]string{
	alert.KindCPU:        "If CPU stayed above the threshold for the whole window, scaleDeployment the subject by the rules' step (a larger request is clamped); never a workload whose replicas an HPA or KEDA owns. If a dependency fails its health check, escalate that instead.",
	alert.KindLatency:    "If latency comes with sustained CPU above the threshold, scaleDeployment the subject by the rules' step; if a dependency is slow or failing, escalate it instead.",
	alert.KindErrorRate:  "If the error rate stayed above its threshold for the whole window and no dependency is failing, scaleDeployment the subject (scale out); if a dependency fails its health check, escalate it — more replicas would not help.",
	alert.KindMemory:     "Only after OOM kills (restarts with reason OOMKilled, or OOM in the logs): updateResources to raise the memory limit (bounded per incident and by the ceiling). Without OOM kills, escalate.",
	alert.KindCrashLoop:  "restartPods the crash-looping workload (a restart budget per hour; never a paused rollout). If the logs show OOM, raise memory with updateResources instead. If restarts do not help, escalate.",
	alert.KindHealth:     "restartPods a workload whose health check keeps failing (a restart budget per hour); if the restarts do not bring it back, escalate.",
	alert.KindConnection: "Read the database's pods and the crashed container's logs: restartPods if they crash-loop, otherwise report that the database is fine and the problem is on the client side.",
	alert.KindDisk:       "If the volume is ClickHouse's, dropPartitions older than the retention — call it with dryRun first to see exactly what would go; any other claim at or above 75%: expandVolume (only where its StorageClass allows it, at most +50% per incident). Otherwise escalate with usage, growth and days to full.",
}
