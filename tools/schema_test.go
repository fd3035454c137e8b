package tools_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/tools"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

const schemasGolden = "testdata/schemas.golden.json"

// schema is the part of a tool's JSON schema the tests read.
type schema struct {
	Type       string                     `json:"type"`
	Properties map[string]json.RawMessage `json:"properties"`
	Required   []string                   `json:"required"`
	Additional *bool                      `json:"additionalProperties"`
}

func specSchemas(t *testing.T) map[string]schema {
	t.Helper()
	out := map[string]schema{}
	for _, s := range tools.NewRegistry(tools.Deps{}).Specs() {
		var sc schema
		dec := json.NewDecoder(bytes.NewReader(s.Parameters))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sc); err != nil {
			t.Fatalf("%s: schema does not decode: %v\n%s", s.Name, err, s.Parameters)
		}
		out[string(s.Name)] = sc
	}
	return out
}

func TestSchemasMatchGoldenFile(t *testing.T) {
	got, err := json.MarshalIndent(tools.NewRegistry(tools.Deps{}).Specs(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(schemasGolden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(schemasGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemasGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./tools -run TestSchemasMatchGoldenFile -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tool specs differ from %s (rerun with -update if the change is intended):\n%s", schemasGolden, got)
	}
}

func TestEveryToolHasASpecWithARiskAndAnObjectSchema(t *testing.T) {
	wantRisk := map[string]string{
		"queryMetrics": "read", "getServiceStatus": "read", "getLogs": "read", "checkStorage": "read", "getVolume": "read", "checkHealth": "read",
		"queryHistory": "read", "scaleDeployment": "write", "restartPods": "write", "updateResources": "write", "dropPartitions": "destructive",
		"expandVolume": "write",
		"notify":       "record", "createIncident": "record",
	}
	reg := tools.NewRegistry(tools.Deps{})
	specs := reg.Specs()
	if len(specs) != len(wantRisk) {
		t.Errorf("%d tools, want %d: %v", len(specs), len(wantRisk), reg.Names())
	}
	for _, s := range specs {
		if s.Risk != wantRisk[string(s.Name)] {
			t.Errorf("%s: risk %q, want %q", s.Name, s.Risk, wantRisk[string(s.Name)])
		}
		if strings.TrimSpace(s.Description) == "" {
			t.Errorf("%s: no description", s.Name)
		}
		tool, ok := reg.Lookup(s.Name)
		if !ok || tool.Risk().String() != s.Risk {
			t.Errorf("%s: Lookup = %v, risk %v", s.Name, ok, tool)
		}
	}
	if !slices.IsSorted(reg.Names()) {
		t.Errorf("Names not sorted: %v", reg.Names())
	}
}

func TestSchemasRequireExactlyTheFieldsWithoutDefaults(t *testing.T) {
	wantRequired := map[string][]string{
		"queryMetrics":     nil, // metric+namespace+name or promql: checked by Validate
		"getServiceStatus": {"namespace", "name"},
		"getLogs":          {"namespace", "name"},
		"checkStorage":     nil,
		"checkHealth":      nil,
		"queryHistory":     {"what"},
		"scaleDeployment":  {"namespace", "name", "replicas"},
		"restartPods":      {"namespace", "name"},
		"updateResources":  {"namespace", "name", "memoryLimit"},
		"dropPartitions":   {"database", "table"},
		"getVolume":        {"namespace", "name"},
		"expandVolume":     {"namespace", "name", "size"},
		"notify":           {"message"},
		"createIncident":   {"title", "service"},
	}
	for name, sc := range specSchemas(t) {
		t.Run(name, func(t *testing.T) {
			if sc.Type != "object" || len(sc.Properties) == 0 {
				t.Fatalf("schema type %q with %d properties, want an object with properties", sc.Type, len(sc.Properties))
			}
			if !slices.Equal(sc.Required, wantRequired[name]) {
				t.Errorf("required %v, want %v", sc.Required, wantRequired[name])
			}
			for _, r := range sc.Required {
				if _, ok := sc.Properties[r]; !ok {
					t.Errorf("required field %q is not a property", r)
				}
			}
			// additionalProperties was dropped from the schemas to keep the
			// prompt small (the gate rejects unknown fields instead); if it is
			// ever written, it must forbid them.
			if sc.Additional != nil && *sc.Additional {
				t.Errorf("additionalProperties is true")
			}
		})
	}
}

// The schema and the decoder agree on what is required: a call without any
// argument is told exactly the schema's required fields are missing.
func TestTheDecoderRequiresWhatTheSchemaRequires(t *testing.T) {
	e := newEnv(t, "healthy")
	for name, sc := range specSchemas(t) {
		t.Run(name, func(t *testing.T) {
			o := e.call(autoRun(), name, `{}`)
			for p := range sc.Properties {
				says := strings.Contains(o.Error, `field "`+p+`" is required`)
				if want := slices.Contains(sc.Required, p); says != want {
					t.Errorf("%s: the schema requires it: %v; the decoder says it is required: %v (%s)", p, want, says, o.Error)
				}
			}
		})
	}
}

// The schema and the decoder must agree: every property is accepted by name,
// and a field outside the schema is rejected, naming the allowed ones.
func TestSchemaPropertiesAreExactlyWhatTheDecoderAccepts(t *testing.T) {
	e := newEnv(t, "healthy")
	for name, sc := range specSchemas(t) {
		t.Run(name, func(t *testing.T) {
			props := make([]string, 0, len(sc.Properties))
			for p := range sc.Properties {
				props = append(props, p)
			}
			slices.Sort(props)
			for _, p := range props {
				// A value of a type no field has: the error must be about the type, not the name.
				o := e.call(autoRun(), name, `{"`+p+`":{"x":1}}`)
				mustStatus(t, o, tools.StatusInvalid)
				if strings.Contains(o.Error, "unknown field") || !strings.Contains(o.Error, `"`+p+`"`) {
					t.Errorf("property %s: %s", p, o.Error)
				}
			}
			o := e.call(autoRun(), name, `{"colour":"red"}`)
			mustStatus(t, o, tools.StatusInvalid)
			if !strings.Contains(o.Error, `unknown field "colour" (allowed: `+strings.Join(props, ", ")+`)`) {
				t.Errorf("unknown field: %s", o.Error)
			}
		})
	}
}

// TestSpecSize measures what every request carries for the tools: issue 2 aims
// for system prompt + all schemas under 5,000 characters.
func TestSpecSize(t *testing.T) {
	specs := tools.NewRegistry(tools.Deps{}).Specs()
	all, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	params := 0
	for _, s := range specs {
		b, _ := json.Marshal(s)
		params += len(s.Parameters)
		t.Logf("%-17s %4d chars", s.Name, len(b))
	}
	t.Logf("all %d tool specs marshalled: %d chars (parameters alone: %d)", len(specs), len(all), params)
	const budget = 5000
	if len(all) >= budget {
		t.Errorf("tool specs take %d chars, the whole fixed prompt must stay under %d", len(all), budget)
	}
}
