package tools_test

import (
	"encoding/json"
	"testing"

	"github.com/duet-company/ops-skill/tools"
)

func TestWithNamespaceFillsTheCurrentNamespaceOfAWorkload(t *testing.T) {
	tests := []struct {
		name, tool, args, ns, want string
	}{
		{"a workload without namespace", "getServiceStatus", `{"name":"backend"}`, "shop", `{"namespace":"shop","name":"backend"}`},
		{"a write without namespace", "scaleDeployment", ` {"name":"backend","replicas":4} `, "shop", `{"namespace":"shop","name":"backend","replicas":4}`},
		{"required and nothing given", "getServiceStatus", `{}`, "shop", `{"namespace":"shop"}`},
		{"required and no arguments", "restartPods", ``, "shop", `{"namespace":"shop"}`},
		{"optional with a workload", "queryHistory", `{"what":"actions","name":"backend"}`, "shop", `{"namespace":"shop","what":"actions","name":"backend"}`},
		{"optional without a workload", "queryHistory", `{"what":"actions"}`, "shop", `{"what":"actions"}`},
		{"raw PromQL", "queryMetrics", `{"promql":"up"}`, "shop", `{"promql":"up"}`},
		{"a namespace given", "getServiceStatus", `{"namespace":"prod","name":"backend"}`, "shop", `{"namespace":"prod","name":"backend"}`},
		{"a null namespace stays for the decoder", "getServiceStatus", `{"namespace":null,"name":"backend"}`, "shop", `{"namespace":null,"name":"backend"}`},
		{"no namespace to fill", "getServiceStatus", `{"name":"backend"}`, "", `{"name":"backend"}`},
		{"a tool without namespaces", "checkStorage", `{"database":"analytics"}`, "shop", `{"database":"analytics"}`},
		{"not an object", "getServiceStatus", `"backend"`, "shop", `"backend"`},
		{"broken JSON", "getServiceStatus", `{"name":`, "shop", `{"name":`},
	}
	reg := tools.NewRegistry(tools.Deps{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tool, ok := reg.Lookup(tools.Name(tt.tool))
			if !ok {
				t.Fatalf("no tool %s", tt.tool)
			}
			if got := string(tool.Spec().WithNamespace(json.RawMessage(tt.args), tt.ns)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAFilledCallIsJudgedLikeAnyOther(t *testing.T) {
	e := newEnv(t, "high-cpu")
	tool, _ := tools.NewRegistry(tools.Deps{}).Lookup("getServiceStatus")
	o := e.call(autoRun(), "getServiceStatus", string(tool.Spec().WithNamespace(json.RawMessage(`{"name":"backend"}`), ns)))
	mustStatus(t, o, tools.StatusOK)
	o = e.call(autoRun(), "getServiceStatus", string(tool.Spec().WithNamespace(json.RawMessage(`{"name":"backend","name":"frontend"}`), ns)))
	mustStatus(t, o, tools.StatusInvalid)
}
