package tools_test

import (
	"encoding/json"
	"testing"
)

func dump(t *testing.T, label string, v any) {
	b, _ := json.MarshalIndent(v, "", " ")
	t.Logf("%s: %s", label, b)
}

func TestExplore(t *testing.T) {
	e := newEnv(t, "high-cpu")
	for _, a := range []string{`{"namespace":"ai-data-labs","NAME":"backend","replicas":4}`, `{"namespace":"ai-data-labs","name":"backend","replicas":4,"replicas":4000}`, `"x"`, `[1]`, `5`, `{"namespace":"ai-data-labs","name":"backend","replicas":4.5}`, `{"namespace":"ai-data-labs","name":"backend","replicas":99999999999}`, `{"namespace":"ai-data-labs","name":"backend","replicas":4} {}`, `{"namespace":"ai-data-labs","name":"backend","replicas":4`, `{"namespace":null,"name":"backend","replicas":4}`} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Logf("PANIC %s: %v", a, r)
				}
			}()
			o := e.call(autoRun(), "scaleDeployment", a)
			t.Logf("%s -> %s %s %s", a, o.Status, o.Error, o.Rule)
		}()
	}
}
