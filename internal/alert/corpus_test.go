package alert

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds Alertmanager payloads built from the label sets of real
// rule files (testdata/alerts/corpus/expect.json says which, and what each
// must classify as).
var corpusDir = filepath.Join("..", "..", "testdata", "alerts", "corpus")

type corpusEntry struct {
	File    string `json:"file"`
	Flavour string `json:"flavour"`
	Source  struct {
		Repo  string `json:"repo"`
		Path  string `json:"path"`
		Group string `json:"group"`
		Alert string `json:"alert"`
	} `json:"source"`
	LabelsFrom string `json:"labelsFrom"`
	Expect     struct {
		Family  Family     `json:"family"`
		Kind    Kind       `json:"kind"`
		Action  Action     `json:"action"`
		Subject SubjectRef `json:"subject"`
	} `json:"expect"`
}

func readCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		About    string        `json:"about"`
		Payloads []corpusEntry `json:"payloads"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&index); err != nil {
		t.Fatalf("expect.json: %v", err)
	}
	return index.Payloads
}

// TestCorpusClassifiesEveryRealAlert scores the corpus: the subject, the kind
// and the action of every alert must be right.
func TestCorpusClassifiesEveryRealAlert(t *testing.T) {
	entries := readCorpus(t)
	if len(entries) < 60 {
		t.Fatalf("the corpus has %d payloads, want at least 60", len(entries))
	}
	var subjects, kinds, actions, families, all int
	for _, e := range entries {
		t.Run(strings.TrimSuffix(e.File, ".json"), func(t *testing.T) {
			c := classifyPayload(t, e)
			okS, okK, okA, okF := c.Subject == e.Expect.Subject, c.Kind == e.Expect.Kind, c.Action == e.Expect.Action, c.Family == e.Expect.Family
			if okS {
				subjects++
			}
			if okK {
				kinds++
			}
			if okA {
				actions++
			}
			if okF {
				families++
			}
			if okS && okK && okA && okF {
				all++
				return
			}
			t.Errorf("%s (%s, %s %s): got %s %s %s %s, want %s %s %s %s", e.Source.Alert, e.Flavour, e.Source.Repo, e.Source.Path,
				c.Family, c.Kind, c.Action, c.Subject, e.Expect.Family, e.Expect.Kind, e.Expect.Action, e.Expect.Subject)
		})
	}
	n := len(entries)
	t.Logf("corpus score: %d/%d alerts fully right; subject %d/%d, kind %d/%d, action %d/%d, family %d/%d", all, n, subjects, n, kinds, n, actions, n, families, n)
	if all != n {
		t.Errorf("classification score %d/%d, want 100%%", all, n)
	}
}

// classifyPayload parses a corpus payload as the CLI does (strict decoding)
// and checks that the alert carries its classification.
func classifyPayload(t *testing.T, e corpusEntry) Classification {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, e.File))
	if err != nil {
		t.Fatal(err)
	}
	w, err := DecodeWebhook(b, true)
	if err != nil {
		t.Fatalf("DecodeWebhook: %v", err)
	}
	as, err := specParser().ParseWebhook(w, testNow)
	if err != nil || len(as) != 1 {
		t.Fatalf("ParseWebhook: %d alerts, %v", len(as), err)
	}
	a := as[0]
	c := a.Classification
	if a.Kind != c.Kind {
		t.Errorf("alert kind %q, classification %q", a.Kind, c.Kind)
	}
	if want := map[bool]string{true: c.Subject.Name}[c.Subject.Kind.Workload()]; a.Service != want {
		t.Errorf("service %q, want %q for subject %s", a.Service, want, c.Subject)
	}
	if !c.Known || c.Alertname != e.Source.Alert {
		t.Errorf("known %v, alertname %q: every corpus alert is in the table", c.Known, c.Alertname)
	}
	return c
}

func TestCorpusPayloadsAreOneFileEach(t *testing.T) {
	entries := readCorpus(t)
	listed := map[string]bool{}
	for _, e := range entries {
		if listed[e.File] {
			t.Errorf("%s listed twice", e.File)
		}
		listed[e.File] = true
		if e.Source.Repo == "" || e.Source.Path == "" || e.LabelsFrom == "" {
			t.Errorf("%s: the source rule file and where the labels come from must be cited", e.File)
		}
		if e.Flavour != "kube-prometheus" && e.Flavour != "kube-prometheus-stack" {
			t.Errorf("%s: flavour %q", e.File, e.Flavour)
		}
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); name != "expect.json" && !listed[name] {
			t.Errorf("%s has no entry in expect.json", name)
		}
	}
}
