package tune

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/units"
)

// callIndex groups the period's calls by alert.
type callIndex struct {
	wrote map[int64]bool // the alert's run changed the platform
}

func indexCalls(calls []store.ToolCallRecord) callIndex {
	idx := callIndex{wrote: map[int64]bool{}}
	for _, c := range calls {
		if c.Write && c.Verdict == store.VerdictExecuted && c.AlertID != 0 {
			idx.wrote[c.AlertID] = true
		}
	}
	return idx
}

func incidentsOf(alerts []store.AlertRecord) map[int64]string {
	out := map[int64]string{}
	for _, a := range alerts {
		if a.IncidentID != "" {
			out[a.ID] = a.IncidentID
		}
	}
	return out
}

type alertKey struct{ kind, service string }

func acted(outcome string) bool {
	return outcome == store.OutcomeResolved || outcome == store.OutcomeUnresolved || outcome == store.OutcomeEscalated
}

// alertFindings counts every alert of every service and reports the ones
// that mostly needed no action.
func alertFindings(alerts []store.AlertRecord, idx callIndex, o Options) ([]AlertStat, []Finding) {
	stats := map[alertKey]*AlertStat{}
	quiet := map[alertKey][]*store.AlertRecord{}
	lastActed := map[string]time.Time{} // by fingerprint
	cooldown := o.Policy.Alerting.Cooldown
	for i := range alerts {
		a := &alerts[i]
		k := alertKey{kindOf(*a), a.Service}
		s := stats[k]
		if s == nil {
			s = &AlertStat{Kind: k.kind, Service: k.service}
			stats[k] = s
		}
		s.Fired++
		switch {
		case a.Outcome == store.OutcomeNoAction:
			s.NoAction++
			quiet[k] = append(quiet[k], a)
		case a.Outcome == store.OutcomeResolved && !idx.wrote[a.ID]:
			s.SelfCleared++
			quiet[k] = append(quiet[k], a)
		case acted(a.Outcome):
			s.Acted++
		}
		if a.Fingerprint != "" {
			if t, ok := lastActed[a.Fingerprint]; ok && cooldown > 0 && a.ReceivedAt.Sub(t) < cooldown {
				s.CooldownHits++
			}
			if acted(a.Outcome) {
				lastActed[a.Fingerprint] = a.ReceivedAt
			}
		}
	}
	var out []AlertStat
	var fs []Finding
	for k, s := range stats {
		out = append(out, *s)
		if n := s.NoAction + s.SelfCleared; n >= o.min() && 2*n >= s.Fired {
			fs = append(fs, falsePositive(*s, quiet[k], o))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Fired != out[j].Fired {
			return out[i].Fired > out[j].Fired
		}
		return out[i].Service+out[i].Kind < out[j].Service+out[j].Kind
	})
	return out, fs
}

func kindOf(a store.AlertRecord) string {
	if a.Kind == "" {
		return "unknown"
	}
	return a.Kind
}

// falsePositive reports an alert that fired and needed nothing, and
// suggests a cooldown long enough to cover its repeats.
func falsePositive(s AlertStat, quiet []*store.AlertRecord, o Options) Finding {
	f := Finding{Problem: FalsePositive, Service: s.Service, Kind: s.Kind,
		Summary: fmt.Sprintf("%s alert of %s fired %d times; %d needed no action and %d cleared by themselves",
			s.Kind, dashed(s.Service), s.Fired, s.NoAction, s.SelfCleared)}
	for _, a := range quiet {
		what := "needed no action"
		if a.Outcome == store.OutcomeResolved {
			what = "resolved without a write"
		}
		f.Evidence = append(f.Evidence, Evidence{At: a.ReceivedAt, Incident: a.IncidentID, AlertID: a.ID, Detail: what})
	}
	f.Suggestion = cooldownFor(quiet, o)
	return f
}

// cooldownFor suggests an alert cooldown covering the median gap between
// repeats, when that is at most an hour; beyond, the alert rule upstream
// must change.
func cooldownFor(quiet []*store.AlertRecord, o Options) Suggestion {
	var gaps []time.Duration
	for i := 1; i < len(quiet); i++ {
		gaps = append(gaps, quiet[i].ReceivedAt.Sub(quiet[i-1].ReceivedAt))
	}
	sustain := units.Duration(o.Policy.Scaling.Up.Sustain)
	note := "the alert rule should require a sustained condition (for: " + sustain + ") before it fires"
	if len(gaps) == 0 {
		return Suggestion{Note: note}
	}
	slices.Sort(gaps)
	med := gaps[len(gaps)/2]
	want := (med + 5*time.Minute - 1).Truncate(5 * time.Minute)
	if want <= o.Policy.Alerting.Cooldown || want > time.Hour {
		return Suggestion{Note: note}
	}
	return Suggestion{Updates: []string{"alerting.cooldown=" + units.Duration(want)},
		Note: fmt.Sprintf("repeats come every %s (median); a cooldown of %s skips them — and %s", units.Duration(med), units.Duration(want), note)}
}

func dashed(s string) string {
	if s == "" {
		return "(no service)"
	}
	return s
}
