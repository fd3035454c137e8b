package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/store"
)

// Store is what the server needs of the history (*store.Store): the shared
// key-value state for the delivery ledger and the firing alerts, and the
// incidents. UpdateState is atomic across goroutines and processes.
type Store interface {
	LoadState(ctx context.Context, env, key string) ([]byte, error)
	UpdateState(ctx context.Context, env, key string, fn func(old []byte) ([]byte, error)) error
	SetIncidentStatus(ctx context.Context, id string, status store.IncidentStatus) error
	AppendTimeline(ctx context.Context, id string, e store.TimelineEntry) error
	RecordAlert(ctx context.Context, a store.AlertRecord) (int64, error)
	PruneState(ctx context.Context, env, prefix string, expired func(key string, value []byte) bool) (int, error)
}

// State keys. They contain ':' so they can never be a guard state key
// ("namespace/name" of a workload).
const (
	deliveryPrefix = "serve:delivery:"
	firingPrefix   = "serve:firing:"
	firingIndexKey = "serve:firing-index"
	probeKey       = "serve:probe"
)

// Delivery statuses in the ledger.
const (
	deliveryRunning   = "running"
	deliveryDone      = "done"
	deliveryCancelled = "cancelled"
)

// delivery is the ledger's record of one alert instance (fingerprint,
// start, status): who handles it and how it ended.
type delivery struct {
	Status      string    `json:"status"`
	Owner       string    `json:"owner"`
	At          time.Time `json:"at"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Outcome     string    `json:"outcome,omitempty"`
	Incident    string    `json:"incident,omitempty"`
}

// firing is an alert being handled and not yet resolved: what the escalation
// timer and the resolution need.
type firing struct {
	Alert     alert.Alert `json:"alert"`
	Lane      string      `json:"lane"`
	Incident  string      `json:"incident,omitempty"`
	Escalated bool        `json:"escalated,omitempty"`
}

// errHandled stops an UpdateState that finds the delivery handled already.
var errHandled = errors.New("delivery already handled")

// ledger keeps deliveries and firing alerts in the shared store, so that
// restarts and replicas see the same.
type ledger struct {
	st  Store
	env string
}

// claim marks a delivery as run by owner (identity and leadership term). It
// returns false when the delivery is done, or is being run by a run that
// claimed it less than staleAfter ago: a leader that died mid-run may have
// acted, so its claim is honoured (at most once) until it is stale, and only
// then taken over. staleAfter is longer than any run, so a claim older than
// that is never a live run's, even this owner's own: its run ended without
// recording its end (the store was down) and may be taken over, and its
// alert resumed. A cancelled delivery (its run ended before acting) is
// claimed again at once.
func (l ledger) claim(ctx context.Context, key, owner, fp string, now time.Time, staleAfter time.Duration) (bool, delivery, error) {
	var prev delivery
	err := l.st.UpdateState(ctx, l.env, deliveryPrefix+key, func(old []byte) ([]byte, error) {
		prev = delivery{}
		if old != nil && json.Unmarshal(old, &prev) == nil {
			switch {
			case prev.Status == deliveryDone:
				return nil, errHandled
			case prev.Status == deliveryRunning && now.Sub(prev.At) < staleAfter:
				return nil, errHandled
			}
		}
		return json.Marshal(delivery{Status: deliveryRunning, Owner: owner, At: now, Fingerprint: fp})
	})
	switch {
	case errors.Is(err, errHandled):
		return false, prev, nil
	case err != nil:
		return false, prev, fmt.Errorf("claim delivery %s: %w", key, err)
	}
	return true, prev, nil
}

// finish records how a claimed delivery ended: done, or cancelled before it
// acted (another delivery of it may then run).
func (l ledger) finish(ctx context.Context, key string, d delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return l.st.UpdateState(ctx, l.env, deliveryPrefix+key, func([]byte) ([]byte, error) { return b, nil })
}

// settle marks a delivery done unless it is done already (a resolved
// alert's firing instance must not run any more).
func (l ledger) settle(ctx context.Context, key string, d delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	err = l.st.UpdateState(ctx, l.env, deliveryPrefix+key, func(old []byte) ([]byte, error) {
		var prev delivery
		if old != nil && json.Unmarshal(old, &prev) == nil && prev.Status == deliveryDone {
			return old, nil
		}
		return b, nil
	})
	if err != nil {
		return fmt.Errorf("settle delivery %s: %w", key, err)
	}
	return nil
}

// track records (or updates) a firing alert under its fingerprint.
func (l ledger) track(ctx context.Context, fp string, f firing) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := l.st.UpdateState(ctx, l.env, firingPrefix+fp, func([]byte) ([]byte, error) { return b, nil }); err != nil {
		return fmt.Errorf("track firing alert %s: %w", fp, err)
	}
	return l.index(ctx, func(ix map[string]time.Time) { ix[fp] = f.Alert.StartsAt })
}

// firing returns the firing alert recorded under fp.
func (l ledger) firing(ctx context.Context, fp string) (firing, bool, error) {
	b, err := l.st.LoadState(ctx, l.env, firingPrefix+fp)
	if err != nil || b == nil {
		return firing{}, false, err
	}
	var f firing
	if err := json.Unmarshal(b, &f); err != nil {
		return firing{}, false, fmt.Errorf("firing alert %s: %w", fp, err)
	}
	return f, true, nil
}

// firingOn counts the firing alerts other than fp tracked with incident
// (they joined it).
func (l ledger) firingOn(ctx context.Context, incident, fp string) (int, error) {
	b, err := l.st.LoadState(ctx, l.env, firingIndexKey)
	if err != nil || b == nil {
		return 0, err
	}
	ix := map[string]time.Time{}
	if err := json.Unmarshal(b, &ix); err != nil {
		return 0, fmt.Errorf("firing index: %w", err)
	}
	n := 0
	for other := range ix {
		if other == fp {
			continue
		}
		f, ok, err := l.firing(ctx, other)
		if err != nil {
			return n, err
		}
		if ok && f.Incident == incident {
			n++
		}
	}
	return n, nil
}

// untrack forgets a firing alert (resolved, or past the TTL).
func (l ledger) untrack(ctx context.Context, fp string) error {
	err := l.st.UpdateState(ctx, l.env, firingPrefix+fp, func([]byte) ([]byte, error) { return nil, nil })
	if err != nil {
		return fmt.Errorf("untrack firing alert %s: %w", fp, err)
	}
	return l.index(ctx, func(ix map[string]time.Time) { delete(ix, fp) })
}

// due lists the fingerprints of firing alerts that started at least after
// ago, and forgets those older than ttl.
func (l ledger) due(ctx context.Context, now time.Time, after, ttl time.Duration) ([]string, error) {
	var out, stale []string
	err := l.index(ctx, func(ix map[string]time.Time) {
		for fp, start := range ix {
			switch age := now.Sub(start); {
			case age > ttl:
				stale = append(stale, fp)
				delete(ix, fp)
			case age >= after:
				out = append(out, fp)
			}
		}
	})
	for _, fp := range stale {
		err = errors.Join(err, l.st.UpdateState(ctx, l.env, firingPrefix+fp, func([]byte) ([]byte, error) { return nil, nil }))
	}
	return out, err
}

// index updates the index of firing alerts (fingerprint → start).
func (l ledger) index(ctx context.Context, fn func(map[string]time.Time)) error {
	err := l.st.UpdateState(ctx, l.env, firingIndexKey, func(old []byte) ([]byte, error) {
		ix := map[string]time.Time{}
		if old != nil {
			if err := json.Unmarshal(old, &ix); err != nil {
				ix = map[string]time.Time{} // a damaged index is rebuilt from new alerts
			}
		}
		fn(ix)
		return json.Marshal(ix)
	})
	if err != nil {
		return fmt.Errorf("firing index: %w", err)
	}
	return nil
}

// prune deletes the deliveries that ended (done or cancelled), or whose run
// was claimed, more than ttl before now, unless their alert is still firing
// (tracked for the escalation timers): a repeat of a firing alert must still
// find its delivery handled. A running claim older than ttl (at least the
// claim timeout) is stale, so a new delivery would take it over anyway:
// forgetting it changes nothing. It returns how many it deleted.
func (l ledger) prune(ctx context.Context, now time.Time, ttl time.Duration) (int, error) {
	firing, err := l.firingSet(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune the ledger: %w", err)
	}
	n, err := l.st.PruneState(ctx, l.env, deliveryPrefix, func(_ string, v []byte) bool {
		var d delivery
		if json.Unmarshal(v, &d) != nil {
			return false // not ours to judge: kept
		}
		return now.Sub(d.At) > ttl && !firing[d.Fingerprint]
	})
	if err != nil {
		return n, fmt.Errorf("prune the ledger: %w", err)
	}
	return n, nil
}

// firingSet is the set of fingerprints of the firing alerts.
func (l ledger) firingSet(ctx context.Context) (map[string]bool, error) {
	b, err := l.st.LoadState(ctx, l.env, firingIndexKey)
	if err != nil || b == nil {
		return map[string]bool{}, err
	}
	ix := map[string]time.Time{}
	if err := json.Unmarshal(b, &ix); err != nil {
		return nil, fmt.Errorf("firing index: %w", err)
	}
	set := make(map[string]bool, len(ix))
	for fp := range ix {
		set[fp] = true
	}
	return set, nil
}

// probe checks the store answers (readiness).
func (l ledger) probe(ctx context.Context) error {
	_, err := l.st.LoadState(ctx, l.env, probeKey)
	return err
}
