package eval

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/sim"
)

// ErrNoScenario means a scenario pattern matched no scenario.
var ErrNoScenario = errors.New("no scenario matches")

// Case is one scenario of the suite.
type Case struct {
	Scenario sim.Scenario
}

// LoadSuite loads the scenarios of fsys whose name matches pattern, sorted by
// name. The pattern is a comma-separated list of path.Match globs; empty
// matches every scenario. A scenario that does not load, or whose
// alert_payload is not a valid Alertmanager payload, is an error.
func LoadSuite(fsys fs.FS, pattern string) ([]Case, error) {
	infos, err := sim.ListScenarios(fsys)
	if err != nil {
		return nil, err
	}
	globs := splitPattern(pattern)
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("scenario pattern %q: %w", g, err)
		}
	}
	var cases []Case
	for _, info := range infos {
		if !matchAny(globs, info.Name) {
			continue
		}
		sc, err := sim.LoadScenario(fsys, info.Name)
		if err != nil {
			return nil, err
		}
		c := Case{Scenario: sc}
		if err := c.checkPayload(); err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		names := make([]string, len(infos))
		for i, s := range infos {
			names[i] = s.Name
		}
		return nil, fmt.Errorf("%w %q (available: %s)", ErrNoScenario, pattern, strings.Join(names, ", "))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Scenario.Name < cases[j].Scenario.Name })
	return cases, nil
}

func splitPattern(p string) []string {
	var out []string
	for _, g := range strings.Split(p, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

func matchAny(globs []string, name string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func (c Case) checkPayload() error {
	if c.Scenario.AlertPayload == "" {
		return nil
	}
	if _, err := alert.DecodeWebhook([]byte(c.Scenario.AlertPayload), true); err != nil {
		return fmt.Errorf("scenario %s: alert_payload: %w", c.Scenario.Name, err)
	}
	return nil
}

// Alerts parses the case's alert the way the CLI does: the Alertmanager
// payload when the scenario has one (strictly decoded), its text otherwise.
// A payload with nothing firing gives no alert and no error: the CLI treats
// it as nothing to do.
func (c Case) Alerts(p alert.Parser, now time.Time) ([]alert.Alert, error) {
	if c.Scenario.AlertPayload == "" {
		a, err := p.ParseText(c.Scenario.Alert, now)
		if err != nil {
			return nil, err
		}
		return c.classified([]alert.Alert{a}), nil
	}
	w, err := alert.DecodeWebhook([]byte(c.Scenario.AlertPayload), true)
	if err != nil {
		return nil, err
	}
	as, err := p.ParseWebhook(w, now)
	if errors.Is(err, alert.ErrNothingFiring) {
		return nil, nil
	}
	return c.classified(as), err
}

// classified gives the alerts the parser did not classify the object the
// scenario says they are about (its subject), as their rule's
// classification would name it.
func (c Case) classified(as []alert.Alert) []alert.Alert {
	sub := c.Scenario.Subject
	if sub == nil {
		return as
	}
	for i := range as {
		if as[i].Classification == nil {
			as[i].Classification = &alert.Classification{Kind: as[i].Kind, Action: alert.ActionPlaybook,
				Subject: alert.SubjectRef{Kind: alert.SubjectKind(sub.Kind), Namespace: c.Scenario.Namespace, Name: sub.Name}}
		}
	}
	return as
}
