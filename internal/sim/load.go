package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	// ErrUnknownScenario means no scenario file has the requested name.
	ErrUnknownScenario = errors.New("unknown scenario")
	// ErrInvalidScenario means a scenario file does not decode or validate.
	ErrInvalidScenario = errors.New("invalid scenario")
)

const scenarioExt = ".yaml"

// LoadScenario reads NAME.yaml from fsys, decodes it strictly (unknown fields
// are errors), fills in defaults and validates it. An unknown name gives an
// error wrapping ErrUnknownScenario that lists the available names.
func LoadScenario(fsys fs.FS, name string) (Scenario, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, scenarioExt) {
		return Scenario{}, fmt.Errorf("%w %q: give the name without directory or %s", ErrUnknownScenario, name, scenarioExt)
	}
	data, err := fs.ReadFile(fsys, name+scenarioExt)
	if errors.Is(err, fs.ErrNotExist) {
		names, lerr := scenarioNames(fsys)
		if lerr != nil {
			return Scenario{}, fmt.Errorf("%w %q: %w", ErrUnknownScenario, name, lerr)
		}
		return Scenario{}, fmt.Errorf("%w %q (available: %s)", ErrUnknownScenario, name, strings.Join(names, ", "))
	}
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario %q: %w", name, err)
	}
	sc, err := ParseScenario(data)
	if err != nil {
		return Scenario{}, fmt.Errorf("scenario %s%s: %w", name, scenarioExt, err)
	}
	if sc.Name != name {
		return Scenario{}, fmt.Errorf("%w: scenario %s%s is named %q; the name must match the file", ErrInvalidScenario, name, scenarioExt, sc.Name)
	}
	return sc, nil
}

// ParseScenario decodes one scenario document strictly, fills in defaults and
// validates it. Errors wrap ErrInvalidScenario.
func ParseScenario(data []byte) (Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("%w: %w", ErrInvalidScenario, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Scenario{}, fmt.Errorf("%w: a scenario file holds exactly one YAML document", ErrInvalidScenario)
	}
	sc = sc.withDefaults()
	if err := sc.Validate(); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// ListScenarios loads every scenario in fsys, sorted by name. A file that does
// not load is an error.
func ListScenarios(fsys fs.FS) ([]ScenarioInfo, error) {
	names, err := scenarioNames(fsys)
	if err != nil {
		return nil, err
	}
	out := make([]ScenarioInfo, 0, len(names))
	for _, n := range names {
		sc, err := LoadScenario(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, ScenarioInfo{Name: sc.Name, Description: sc.Description, Alert: sc.Alert})
	}
	return out, nil
}

// MatchScenario picks the scenario whose match keywords appear most often in
// alertText (case-insensitive substrings; each keyword counts once). Ties go to
// the name first in lexical order; a scenario without keywords is never picked.
// It returns false when no keyword of any scenario matches or a file does not load.
func MatchScenario(fsys fs.FS, alertText string) (string, bool) {
	names, err := scenarioNames(fsys)
	if err != nil {
		return "", false
	}
	text := strings.ToLower(alertText)
	best, bestScore := "", 0
	for _, n := range names {
		sc, err := LoadScenario(fsys, n)
		if err != nil {
			return "", false
		}
		score := 0
		for _, kw := range sc.Match {
			if strings.Contains(text, strings.ToLower(kw)) {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = n, score
		}
	}
	return best, bestScore > 0
}

func scenarioNames(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list scenarios: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != scenarioExt {
			continue
		}
		names = append(names, strings.TrimSuffix(e.Name(), scenarioExt))
	}
	sort.Strings(names)
	return names, nil
}
