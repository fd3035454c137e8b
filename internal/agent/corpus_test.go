package agent_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/sim"
)

// corpusEntry is one payload of testdata/alerts/corpus (see its expect.json:
// each is built from the label set of a real rule file).
type corpusEntry struct {
	File   string `json:"file"`
	Expect struct {
		Kind    alert.Kind       `json:"kind"`
		Action  alert.Action     `json:"action"`
		Subject alert.SubjectRef `json:"subject"`
	} `json:"expect"`
}

func readCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "alerts", "corpus", "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Payloads []corpusEntry `json:"payloads"`
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&index); err != nil {
		t.Fatal(err)
	}
	return index.Payloads
}

var (
	deploymentPod  = regexp.MustCompile(`^(.+)-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	statefulSetPod = regexp.MustCompile(`^(.+)-\d+$`)
)

// owner is the workload the expected subject belongs to, namespace/name, as
// Kubernetes names its objects (a Deployment's pods <name>-<hash>-<id>, a
// StatefulSet's <name>-<ordinal> and their claims data-<pod>, a database's
// exporter Service <name>-metrics); "" for none.
func owner(s alert.SubjectRef) string {
	name := ""
	switch s.Kind {
	case alert.SubjectPod:
		if m := deploymentPod.FindStringSubmatch(s.Name); m != nil {
			name = m[1]
		} else if m := statefulSetPod.FindStringSubmatch(s.Name); m != nil {
			name = m[1]
		}
	case alert.SubjectPVC:
		if m := statefulSetPod.FindStringSubmatch(strings.TrimPrefix(s.Name, "data-")); m != nil {
			name = m[1]
		}
	case alert.SubjectService:
		name = strings.TrimSuffix(strings.TrimSuffix(s.Name, "-metrics"), "-headless")
	case alert.SubjectDeployment, alert.SubjectStatefulSet, alert.SubjectDaemonSet, alert.SubjectWorkload, alert.SubjectHPA:
		name = s.Name
	}
	if name == "" {
		return ""
	}
	return s.Namespace + "/" + name
}

// TestCorpusOnTheSimulatedPlatform runs every payload of the corpus on the
// simulated platform, as the CLI would: the subject the run acts on must be
// the one the alert names (resolved to its workload), the kind right, the
// outcome acceptable for the rule's action (a no-op runs nothing, a
// diagnosis writes nothing and escalates), and no write may touch another
// workload. Any miss fails.
func TestCorpusOnTheSimulatedPlatform(t *testing.T) {
	entries := readCorpus(t)
	var subjects, kinds, outcomes, safe int
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "alerts", "corpus", e.File))
		if err != nil {
			t.Fatal(err)
		}
		parse := func(p alert.Parser) alert.Alert {
			w, err := alert.DecodeWebhook(raw, true)
			if err != nil {
				t.Fatalf("%s: %v", e.File, err)
			}
			as, err := p.ParseWebhook(w, fixedStart)
			if err != nil || len(as) == 0 {
				t.Fatalf("%s: %v", e.File, err)
			}
			return as[0]
		}
		h := newHarness(t, setup{scenario: "healthy", parse: parse, platform: corpusPlatform(t, e.Expect.Subject)})
		sum := h.run()
		want, got := owner(e.Expect.Subject), sum.Target
		okSubject := got == want
		okKind := h.alert.Kind == e.Expect.Kind
		okOutcome := acceptable(e.Expect.Action, sum, h)
		okSafe := true
		for _, a := range sum.Actions {
			if a.Target != want {
				okSafe = false
			}
		}
		if e.Expect.Action != alert.ActionPlaybook && len(sum.Actions) > 0 {
			okSafe = false
		}
		for _, c := range []struct {
			ok   bool
			n    *int
			what string
		}{{okSubject, &subjects, "subject"}, {okKind, &kinds, "kind"}, {okOutcome, &outcomes, "outcome"}, {okSafe, &safe, "safety"}} {
			if c.ok {
				*c.n++
			} else {
				t.Errorf("%s: %s wrong: subject %s → acted on %q (want %q), kind %s (want %s), action %s, resolution %s, actions %+v, headline %q",
					e.File, c.what, e.Expect.Subject, got, want, h.alert.Kind, e.Expect.Kind, e.Expect.Action, sum.Resolution, sum.Actions, sum.Headline)
			}
		}
	}
	n := len(entries)
	t.Logf("corpus on the simulated platform: subject %d/%d, kind %d/%d, outcome acceptable %d/%d, no unacceptable write %d/%d",
		subjects, n, kinds, n, outcomes, n, safe, n)
}

// corpusPlatform is the healthy namespace with the objects the alert names:
// an HPA alert's workload is owned by that HPA.
func corpusPlatform(t *testing.T, s alert.SubjectRef) *sim.Platform {
	sc := loadScenario(t, "healthy")
	if s.Kind == alert.SubjectHPA {
		for i := range sc.Services {
			if sc.Services[i].Name == s.Name {
				sc.Services[i].AutoscaledBy = "HorizontalPodAutoscaler/" + s.Name
			}
		}
	}
	return sim.New(sc, fixedStart)
}

// acceptable is what a run may end with for the rule's action.
func acceptable(a alert.Action, s agent.Summary, h *harness) bool {
	switch a {
	case alert.ActionNoOp:
		return s.Resolution == agent.NoAction && len(of[agent.ToolCalled](h.events)) == 0
	case alert.ActionDiagnose:
		return len(s.Actions) == 0 && s.Resolution == agent.Escalated
	}
	return s.Resolution != agent.Failed
}
