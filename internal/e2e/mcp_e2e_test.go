//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	appsv1 "k8s.io/api/apps/v1"
)

// toolOutcome is what `tools call` prints and what an MCP call's structured
// content holds, less MCP's own fields (mode, verdict).
type toolOutcome struct {
	Tool    string         `json:"tool"`
	Target  string         `json:"target"`
	Status  string         `json:"status"`
	Summary string         `json:"summary"`
	Rule    string         `json:"rule"`
	Reason  string         `json:"reason"`
	Params  map[string]any `json:"params"`
	Result  any            `json:"result"`
	Error   string         `json:"error"`
}

// times matches the instants a write records (RFC 3339, or a clock time in
// a sentence): two identical writes made seconds apart differ only there.
var times = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z|\b\d\d:\d\d:\d\d\b`)

// sameWrite makes the record of a write comparable with that of the same
// write in another namespace at another time.
func sameWrite(s, ns string) string {
	return times.ReplaceAllString(strings.ReplaceAll(s, ns, "NS"), "TIME")
}

// normalized is the outcome as JSON with the namespace replaced, so the
// outcomes of the same write in two namespaces compare equal.
func (o toolOutcome) normalized(t *testing.T, ns string) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return sameWrite(string(b), ns)
}

// historyEntries is what queryHistory answers about the actions, with the
// namespace replaced and the times left out.
func (u *user) historyEntries(ns string) []map[string]any {
	u.t.Helper()
	out, errOut, code, _ := u.run(time.Minute, "tools", "call", "queryHistory", "--args", `{"what":"actions"}`)
	if code != 0 {
		u.t.Fatalf("queryHistory: exit %d: %s", code, errOut)
	}
	var answer struct {
		Status string
		Result struct{ Entries []map[string]any }
	}
	if err := json.Unmarshal([]byte(sameWrite(out, ns)), &answer); err != nil || answer.Status != "ok" {
		u.t.Fatalf("queryHistory: %v\n%s", err, out)
	}
	for _, e := range answer.Result.Entries {
		for k := range e {
			if k == "at" || strings.HasSuffix(k, "At") || k == "time" || k == "id" {
				delete(e, k)
			}
		}
	}
	return answer.Result.Entries
}

// mcpCall runs `ops-skill mcp` as an MCP client does (a command and its
// arguments, the user's environment) and makes one tool call through the
// go-sdk client.
func (u *user) mcpCall(tool, args string, mcpArgs ...string) (toolOutcome, string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.Command(binary(u.t), append([]string{"mcp"}, mcpArgs...)...)
	cmd.Env, cmd.Dir = u.env, u.home
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "ops-skill-e2e", Version: "1"}, nil).Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		u.t.Fatalf("connect to ops-skill mcp: %v\n%s", err, stderr.String())
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: json.RawMessage(args)})
	if err != nil {
		u.t.Fatalf("%s through MCP: %v\n%s", tool, err, stderr.String())
	}
	if err := cs.Close(); err != nil {
		u.t.Errorf("close the MCP session: %v\n%s", err, stderr.String())
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		u.t.Fatal(err)
	}
	var o toolOutcome
	if err := json.Unmarshal(b, &o); err != nil || res.IsError {
		u.t.Fatalf("%s through MCP: %s (isError %v, %v)\n%s", tool, b, res.IsError, err, stderr.String())
	}
	var mode struct{ Mode string }
	_ = json.Unmarshal(b, &mode)
	return o, mode.Mode
}

// clusterChange is what a scale leaves on a Deployment that a second,
// identical write must leave too: the spec and the metadata a write can
// touch, with the namespace replaced.
func clusterChange(t *testing.T, d *appsv1.Deployment) string {
	t.Helper()
	view := struct {
		Labels, Annotations map[string]string
		Spec                appsv1.DeploymentSpec
	}{maps.Clone(d.Labels), maps.Clone(d.Annotations), d.Spec}
	b, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	return sameWrite(string(b), d.Namespace)
}

// TestAWriteThroughMCPChangesTheClusterAsToolsCallDoes: two identical
// backends under the same 85% load, each in its own namespace with its own
// user and history. One user scales theirs with `ops-skill tools call`, the
// other through an MCP client of `ops-skill mcp --mode auto`. The guard
// allows both on Prometheus' real CPU series, and the two Deployments, the
// two outcomes and the two histories are the same write.
func TestAWriteThroughMCPChangesTheClusterAsToolsCallDoes(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := newStack(t, "kube", "prometheus", "workload")
	binary(t)
	nsCLI, nsMCP := s.namespace("e2e-mcp-cli"), s.namespace("e2e-mcp-mcp")
	for _, ns := range []string{nsCLI, nsMCP} {
		s.deployment(ns, "backend", 3, "1", "1Gi")
		s.load(map[string]any{"namespace": ns, "name": "backend", "cpu_cores": 2.55, "memory_bytes_per_pod": 256 << 20,
			"requests_per_second": 100, "error_ratio": 0.001, "latency_seconds": 0.05})
	}
	const window = 30 * time.Second
	for _, ns := range []string{nsCLI, nsMCP} {
		s.waitReady(ns, "backend", 3)
		took := eventually(t, 6*time.Minute, "Prometheus has "+ns+"/backend's CPU above 80% for the window", func() (bool, string) {
			v, ok := s.promValue(cpuQuery(ns), time.Now().Add(-window-15*time.Second))
			return ok && v > 84, fmt.Sprintf("%v (result: %v)", v, ok)
		})
		t.Logf("%s: CPU history covered the window after %s", ns, took.Round(time.Second))
	}
	conf := "operations:\n  auto_scaling:\n    scale_up_duration: 30s\n"
	env := map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"]}
	cliUser, mcpUser := s.user(nsCLI, conf, env), s.user(nsMCP, conf, env)
	const args = `{"name":"backend","replicas":4}`

	out, errOut, code, _ := cliUser.run(2*time.Minute, "--mode", "auto", "tools", "call", "scaleDeployment", "--args", args)
	if code != 0 {
		t.Fatalf("tools call: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var viaCLI toolOutcome
	if err := json.Unmarshal([]byte(out), &viaCLI); err != nil {
		t.Fatalf("tools call printed no outcome: %v\n%s", err, out)
	}
	viaMCP, mode := mcpUser.mcpCall("scaleDeployment", args, "--mode", "auto")
	t.Logf("through tools call: %+v\nthrough MCP (mode %s): %+v", viaCLI, mode, viaMCP)

	if viaCLI.Status != "executed" || mode != "auto" {
		t.Errorf("tools call status %q, MCP mode %q: want an applied write in auto mode", viaCLI.Status, mode)
	}
	if a, b := viaCLI.normalized(t, nsCLI), viaMCP.normalized(t, nsMCP); a != b {
		t.Errorf("outcomes differ\nthrough tools call: %s\nthrough MCP:        %s", a, b)
	}
	// The cluster: both Deployments went from 3 to 4, and nothing else
	// differs between them.
	dCLI, dMCP := s.getDeployment(nsCLI, "backend"), s.getDeployment(nsMCP, "backend")
	if *dCLI.Spec.Replicas != 4 || *dMCP.Spec.Replicas != 4 {
		t.Errorf("spec.replicas: %d after tools call, %d after MCP; want 4 and 4", *dCLI.Spec.Replicas, *dMCP.Spec.Replicas)
	}
	if a, b := clusterChange(t, dCLI), clusterChange(t, dMCP); a != b {
		t.Errorf("the Deployments differ\nafter tools call: %s\nafter MCP:        %s", a, b)
	}
	s.waitReady(nsCLI, "backend", 4)
	s.waitReady(nsMCP, "backend", 4)
	// The history of each user holds the write, the same way.
	hCLI, hMCP := cliUser.historyEntries(nsCLI), mcpUser.historyEntries(nsMCP)
	if len(hCLI) != 1 || !reflect.DeepEqual(hCLI, hMCP) {
		t.Errorf("history after tools call: %v\nafter MCP: %v\nwant the same single scale", hCLI, hMCP)
	} else if hCLI[0]["kind"] != "scaleDeployment" || hCLI[0]["target"] != "NS/backend" || hCLI[0]["status"] != "executed" {
		t.Errorf("the history entry %v is not the scale of backend", hCLI[0])
	}
	t.Logf("history entry: %v; whole test %s", hCLI, time.Since(start).Round(time.Second))
}
