package tools_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// bigArgs is a notify call over the 16 KiB argument limit.
var bigArgs = `{"message":"` + strings.Repeat("x", 17<<10) + `"}`

func TestMalformedCallsAreInvalidRecordedAndChangeNothing(t *testing.T) {
	cases := []struct {
		name, tool, args string
		want             []string // substrings of the error
	}{
		// Unknown fields name the field and list the allowed ones.
		{"scale unknown field", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":4,"force":true}`,
			[]string{`unknown field "force"`, "allowed: name, namespace, reason, replicas"}},
		{"scale field in another case", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","Replicas":4}`,
			[]string{`unknown field "Replicas"`, "case-sensitive"}},
		{"scale field given twice", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":4,"replicas":50}`,
			[]string{`field "replicas" is given more than once`}},
		{"restart unknown field", "restartPods", `{"namespace":"ai-data-labs","name":"backend","grace":0}`,
			[]string{`unknown field "grace"`, "allowed: name, namespace, pods, reason"}},
		{"resources unknown field", "updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","memoryLimit":"8Gi","cpuLimit":"4"}`,
			[]string{`unknown field "cpuLimit"`, "allowed: container, memoryLimit, name, namespace, reason"}},
		{"drop unknown field", "dropPartitions", `{"database":"analytics","table":"events","all":true}`,
			[]string{`unknown field "all"`, "allowed: database, dryRun, olderThanDays, partitions, table"}},
		{"metrics unknown field", "queryMetrics", `{"query":"up"}`,
			[]string{`unknown field "query"`, "allowed: metric, name, namespace, promql, range"}},
		{"status unknown field", "getServiceStatus", `{"namespace":"ai-data-labs","name":"backend","verbose":true}`,
			[]string{`unknown field "verbose"`, "allowed: name, namespace"}},
		{"logs unknown field", "getLogs", `{"namespace":"ai-data-labs","name":"backend","since":"5m"}`,
			[]string{`unknown field "since"`, "allowed: filter, name, namespace, pod, previous, tail"}},
		{"storage unknown field", "checkStorage", `{"disk":"default"}`, []string{`unknown field "disk"`, "allowed: database, table"}},
		{"health unknown field", "checkHealth", `{"services":["backend"]}`, []string{`unknown field "services"`, "allowed: service"}},
		{"notify unknown field", "notify", `{"message":"hi","channel":"#ops"}`, []string{`unknown field "channel"`, "allowed: message, service, severity"}},
		{"incident unknown field", "createIncident", `{"title":"t","service":"backend","owner":"me"}`,
			[]string{`unknown field "owner"`, "allowed: service, severity, summary, title"}},

		// Wrong types name the field and the type wanted.
		{"replicas as a string", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":"4"}`,
			[]string{`field "replicas" must be a JSON integer, got string`}},
		{"replicas as a fraction", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":4.5}`,
			[]string{`field "replicas" must be a JSON integer`}},
		{"replicas beyond int32", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":99999999999}`,
			[]string{`field "replicas" must be a JSON integer`}},
		{"name as a number", "getServiceStatus", `{"namespace":"ai-data-labs","name":7}`, []string{`field "name" must be a JSON string, got number`}},
		{"pods as a string", "restartPods", `{"namespace":"ai-data-labs","name":"frontend","pods":"frontend-1"}`,
			[]string{`field "pods" must be an array of string`}},
		{"dry run as a string", "dropPartitions", `{"database":"analytics","table":"events","dryRun":"false"}`,
			[]string{`field "dryRun" must be a JSON boolean`}},
		{"tail as a string", "getLogs", `{"namespace":"ai-data-labs","name":"backend","tail":"all"}`, []string{`field "tail" must be a JSON integer`}},
		{"arguments as a string", "scaleDeployment", `"scale backend to 4"`, []string{"arguments must be a JSON object, got string"}},
		{"arguments as an array", "dropPartitions", `[{"database":"analytics"}]`, []string{"arguments must be a JSON object, got array"}},
		{"arguments as a number", "notify", `5`, []string{"arguments must be a JSON object, got number"}},

		// Broken JSON.
		{"invalid JSON", "scaleDeployment", `{"namespace":"ai-data-labs",name:"backend"}`, []string{"not valid JSON"}},
		{"truncated JSON", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":4`, []string{"truncated JSON"}},
		{"trailing data", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":4} {"replicas":50}`,
			[]string{"unexpected data after the JSON object"}},
		{"trailing garbage", "dropPartitions", `{"database":"analytics","table":"events"}; DROP TABLE events`,
			[]string{"unexpected data after the JSON object"}},
		{"oversized", "notify", bigArgs, []string{"over the 16384-byte limit"}},

		// Empty arguments: required fields are named.
		{"empty scale", "scaleDeployment", ``, []string{`field "namespace" is required`, `field "name" is required`}},
		{"null scale", "scaleDeployment", `null`, []string{`field "namespace" is required`}},
		{"empty object restart", "restartPods", `{}`, []string{`field "namespace" is required`}},
		{"empty resources", "updateResources", `{}`, []string{`field "name" is required`, `field "memoryLimit"`}},
		{"empty drop", "dropPartitions", `{}`, []string{`field "database" is required`, `field "table" is required`}},
		{"empty metrics", "queryMetrics", `{}`, []string{`give "metric" (with namespace and name) or "promql"`}},
		{"empty notify", "notify", `{}`, []string{`field "message" is required`}},
		{"blank notify", "notify", `{"message":"   "}`, []string{`field "message" is required`}},
		{"empty incident", "createIncident", `{}`, []string{`field "title" is required`, `field "service" is required`}},

		// A required field left out is named, never its zero value.
		{"scale without replicas", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend"}`, []string{`scaleDeployment: field "replicas" is required`}},
		{"scale with null replicas", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":null}`, []string{`field "replicas" is required`}},
		{"scale without a namespace", "scaleDeployment", `{"name":"backend","replicas":4}`, []string{`field "namespace" is required`}},
		{"resources without a limit", "updateResources", `{"namespace":"ai-data-labs","name":"clickhouse"}`, []string{`updateResources: field "memoryLimit" is required`}},
		{"drop without a table", "dropPartitions", `{"database":"analytics"}`, []string{`dropPartitions: field "table" is required`}},
		{"history without what", "queryHistory", `{"since":"7d"}`, []string{`queryHistory: field "what" is required`}},
		{"incident without a service", "createIncident", `{"title":"t"}`, []string{`createIncident: field "service" is required`}},
		{"notify with only a severity", "notify", `{"severity":"info"}`, []string{`notify: field "message" is required`}},

		// Values the schema cannot express.
		{"negative replicas", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":-1}`,
			[]string{`field "replicas" = -1 must not be negative`}},
		{"uppercase name", "scaleDeployment", `{"namespace":"ai-data-labs","name":"Backend","replicas":4}`,
			[]string{`field "name" = "Backend" is not a valid Kubernetes name`}},
		{"path in name", "restartPods", `{"namespace":"ai-data-labs","name":"../kube-system/coredns"}`,
			[]string{`field "name"`, "not a valid Kubernetes name"}},
		{"namespace too long", "getServiceStatus", `{"namespace":"` + strings.Repeat("a", 64) + `","name":"backend"}`,
			[]string{`field "namespace"`, "at most 63 characters"}},
		{"name with a space", "getLogs", `{"namespace":"ai-data-labs","name":"backend api"}`, []string{`field "name" = "backend api"`}},
		{"bad pod name", "restartPods", `{"namespace":"ai-data-labs","name":"frontend","pods":["Frontend_1"]}`,
			[]string{`field "pods[]" = "Frontend_1"`}},
		{"bad container name", "updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","container":"CH","memoryLimit":"8Gi"}`,
			[]string{`field "container" = "CH"`}},
		{"memory without a number", "updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","memoryLimit":"lots"}`,
			[]string{`field "memoryLimit"`, "invalid byte quantity"}},
		{"negative memory", "updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","memoryLimit":"-8Gi"}`,
			[]string{`field "memoryLimit"`, "invalid byte quantity"}},
		{"memory with a bad suffix", "updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","memoryLimit":"8Gb"}`,
			[]string{"invalid byte quantity"}},
		{"SQL in table", "dropPartitions", `{"database":"analytics","table":"events; DROP DATABASE analytics"}`,
			[]string{`field "table"`, "not a plain identifier"}},
		{"empty partition ID", "dropPartitions", `{"database":"analytics","table":"events","partitions":[""]}`,
			[]string{`field "partitions" has an empty or over-long ID`}},
		{"negative age", "dropPartitions", `{"database":"analytics","table":"events","olderThanDays":-1}`,
			[]string{`field "olderThanDays" = -1`}},
		{"tail over the bound", "getLogs", `{"namespace":"ai-data-labs","name":"backend","tail":100000}`,
			[]string{`field "tail" = 100000 must be between 1 and 200`}},
		{"range too long", "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","range":"9999h"}`,
			[]string{`field "range" = "9999h" must be a duration from 1m to 168h`}},
		{"since not a time", "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","since":"5m"}`,
			[]string{`field "since" = "5m" must be an RFC 3339 time`}},
		{"since with a range", "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","range":"15m","since":"2026-02-16T09:59:00Z"}`,
			[]string{`field "since" goes with "metric" and no "range"`}},
		{"since with promql", "queryMetrics", `{"promql":"up","since":"2026-02-16T09:59:00Z"}`,
			[]string{`field "since" goes with "metric" and no "range"`}},
		{"metric and promql", "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","promql":"up"}`,
			[]string{`give either "metric" or "promql", not both`}},

		// Enumerations.
		{"unknown metric", "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"gpu"}`,
			[]string{`field "metric" = "gpu" is not one of cpu_utilization, memory_utilization`}},
		{"notify severity", "notify", `{"message":"hi","severity":"page-everyone"}`,
			[]string{`field "severity" = "page-everyone" is not one of info, warning, critical`}},
		{"incident severity", "createIncident", `{"title":"t","service":"backend","severity":"sev0"}`,
			[]string{`field "severity" = "sev0" is not one of low, high, critical`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "high-cpu")
			before := e.p.Snapshot()
			o := e.call(autoRun(), c.tool, c.args)
			mustStatus(t, o, tools.StatusInvalid)
			for _, w := range c.want {
				if !strings.Contains(o.Error, w) {
					t.Errorf("error %q does not contain %q", o.Error, w)
				}
			}
			if !strings.HasPrefix(o.Error, tools.ErrInvalidArgs.Error()+" for "+c.tool+": ") {
				t.Errorf("error %q does not start with %q", o.Error, tools.ErrInvalidArgs.Error())
			}
			if len(o.Error) > 1500 {
				t.Errorf("error is %d characters: untrusted input must be clipped", len(o.Error))
			}
			calls := e.rec.Calls()
			if len(calls) != 1 || calls[0].Status != tools.StatusInvalid || calls[0].Tool != c.tool || calls[0].Reason != o.Error {
				t.Errorf("recorded %+v, want one invalid %s call", calls, c.tool)
			}
			if after := e.p.Snapshot(); !reflect.DeepEqual(before, after) {
				t.Errorf("the platform changed:\nbefore %+v\nafter  %+v", before, after)
			}
			if n := len(e.p.Notifications()); n != 0 {
				t.Errorf("%d notifications sent", n)
			}
		})
	}
}

func TestValidArgumentsOfEveryKindDecode(t *testing.T) {
	// The positive side of the table above: each shape is accepted, whatever
	// the outcome of the call itself.
	cases := []struct{ tool, args string }{
		{"scaleDeployment", ` {"namespace":"ai-data-labs","name":"backend","replicas":4,"reason":"cpu"} `},
		{"restartPods", `{"namespace":"ai-data-labs","name":"frontend","pods":["frontend-a","frontend-b"]}`},
		{"updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","container":"clickhouse","memoryLimit":"8Gi"}`},
		{"updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","memoryLimit":"8589934592"}`},
		{"dropPartitions", `{"database":"analytics","table":"events","partitions":["202603"],"olderThanDays":120,"dryRun":true}`},
		{"queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"error_rate","range":"1h"}`},
		{"getLogs", `{"namespace":"ai-data-labs","name":"backend","pod":"backend-1","tail":1,"filter":"x","previous":true}`},
		{"checkStorage", ``},
		{"checkHealth", `null`},
		{"notify", `{"message":"hi","severity":"critical","service":"backend"}`},
		{"createIncident", `{"title":"t","service":"backend","severity":"low","summary":"s"}`},
	}
	for _, c := range cases {
		e := newEnv(t, "high-cpu")
		if o := e.call(tools.NewRun(1, guard.ModeObserve, nil, 0), c.tool, c.args); o.Status == tools.StatusInvalid {
			t.Errorf("%s %s: invalid: %s", c.tool, c.args, o.Error)
		}
	}
}

func TestUnknownToolIsInvalidAndListsTheTools(t *testing.T) {
	for _, name := range []string{"deleteNamespace", "", "ScaleDeployment", "kubectl"} {
		e := newEnv(t, "high-cpu")
		o := e.call(autoRun(), name, `{"namespace":"ai-data-labs","name":"backend","replicas":4}`)
		mustStatus(t, o, tools.StatusInvalid)
		if !strings.Contains(o.Error, tools.ErrUnknownTool.Error()) || !strings.Contains(o.Error, "available: checkHealth, checkStorage, createIncident") {
			t.Errorf("%q: error %q", name, o.Error)
		}
		if calls := e.rec.Calls(); len(calls) != 1 || calls[0].Status != tools.StatusInvalid || calls[0].Tool != name {
			t.Errorf("%q: recorded %+v", name, calls)
		}
		if w := e.p.Snapshot().Services["backend"].Replicas; w != 3 {
			t.Errorf("%q: backend at %d replicas", name, w)
		}
	}
}
