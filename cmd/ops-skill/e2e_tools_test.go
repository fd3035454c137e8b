package main

import (
	"encoding/json"
	"testing"
)

func TestToolsList(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, "", "tools", "list")
	names := []string{"queryMetrics", "getServiceStatus", "getLogs", "checkStorage", "getVolume", "scaleDeployment", "restartPods",
		"updateResources", "dropPartitions", "expandVolume", "notify", "createIncident"}
	wantContains(t, "tools list", r.stdout, names...)
	r = s.must(0, "", "tools", "list", "--output", "json")
	var specs []struct {
		Name       string          `json:"name"`
		Risk       string          `json:"risk"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &specs); err != nil {
		t.Fatalf("tools list --output json: %v", err)
	}
	if len(specs) != 14 {
		t.Errorf("%d tools, want 14", len(specs))
	}
	risks := map[string]string{}
	for _, sp := range specs {
		risks[sp.Name] = sp.Risk
		var schema struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sp.Parameters, &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: parameters are not an object schema: %s", sp.Name, sp.Parameters)
		}
	}
	if risks["queryMetrics"] != "read" || risks["scaleDeployment"] != "write" || risks["dropPartitions"] != "destructive" ||
		risks["getVolume"] != "read" || risks["expandVolume"] != "write" {
		t.Errorf("risks = %v", risks)
	}
}

const scaleArgs = `{"namespace":"ai-data-labs","name":"backend","replicas":4}`

type outcome struct {
	Tool, Target, Status, Rule, Reason, Error string
	Params                                    map[string]any
}

func decodeOutcome(t *testing.T, r result) outcome {
	t.Helper()
	var o outcome
	if err := json.Unmarshal([]byte(r.stdout), &o); err != nil {
		t.Fatalf("tools call output is not a JSON outcome: %v\n%s", err, r)
	}
	return o
}

func TestToolsCallScaleOnTheSimulatedPlatform(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, "", "tools", "call", "scaleDeployment", "--scenario", "high-cpu", "--args", scaleArgs)
	o := decodeOutcome(t, r)
	if o.Tool != "scaleDeployment" || o.Target != "ai-data-labs/backend" || o.Status != "executed" || o.Rule != "scale_up.cpu" || o.Params["to"] != 4.0 {
		t.Errorf("outcome = %+v", o)
	}
	if n := s.scaleEventCount(); n != 1 {
		t.Errorf("%d scale events recorded, want 1", n)
	}
}

func TestToolsCallIsGuarded(t *testing.T) {
	s := newSandbox(t)
	// Without a scenario the platform is healthy (CPU 40%): no rule allows a scale-up.
	r := s.must(3, "", "tools", "call", "scaleDeployment", "--args", scaleArgs) // a refusal leaves the problem to a person: exit 3
	o := decodeOutcome(t, r)
	if o.Status != "refused" || o.Rule != "scale_up.cpu" || o.Reason == "" {
		t.Errorf("outcome = %+v", o)
	}
	wantContains(t, "stderr", r.stderr, "refused by scale_up.cpu")
	if n := s.scaleEventCount(); n != 0 {
		t.Errorf("%d scale events after a refusal", n)
	}
}

func TestToolsCallWithBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"wrong type", []string{"scaleDeployment", "--args", `{"namespace":"ai-data-labs","name":"backend","replicas":"four"}`}, `"replicas"`},
		{"unknown field", []string{"scaleDeployment", "--args", `{"namespace":"ai-data-labs","name":"backend","replicas":4,"force":true}`}, `"force"`},
		{"not JSON", []string{"scaleDeployment", "--args", `{namespace:`}, "scaleDeployment"},
		{"missing name", []string{"scaleDeployment", "--args", `{"namespace":"ai-data-labs","replicas":4}`}, "name"},
		{"unknown tool", []string{"deleteCluster", "--args", `{}`}, `unknown tool "deleteCluster"`},
		{"no tool", nil, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			r := s.must(2, "", append([]string{"tools", "call"}, tt.args...)...)
			wantContains(t, "stderr", r.stderr, tt.want)
			if n := s.scaleEventCount(); n != 0 {
				t.Errorf("%d scale events after a bad call", n)
			}
		})
	}
}
