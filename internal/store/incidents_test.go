package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"
)

func TestIncidentIDsCountPerDayAndRestartAtRollover(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	steps := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC), "INC-2026-02-16-001"},
		{time.Date(2026, 2, 16, 12, 0, 0, 0, time.UTC), "INC-2026-02-16-002"},
		{time.Date(2026, 2, 16, 23, 59, 59, 999999999, time.UTC), "INC-2026-02-16-003"},
		{time.Date(2026, 2, 17, 0, 0, 0, 0, time.UTC), "INC-2026-02-17-001"},
		// The date is the UTC date: 23:30 in New York on the 17th is the 18th in UTC.
		{time.Date(2026, 2, 17, 23, 30, 0, 0, mustLoad(t, "America/New_York")), "INC-2026-02-18-001"},
		{time.Date(2026, 2, 17, 12, 0, 0, 0, time.UTC), "INC-2026-02-17-002"}, // clock set back: that day continues
		{time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC), "INC-2027-01-01-001"},
	}
	for _, st := range steps {
		clk.SetTime(st.at)
		got, err := s.CreateIncident(ctx, Incident{Title: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != st.want {
			t.Errorf("at %v: ID = %s, want %s", st.at, got.ID, st.want)
		}
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s unavailable: %v", name, err)
	}
	return loc
}

func TestIncidentIDWidensPastNNN(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	if _, err := s.db.ExecContext(ctx, `INSERT INTO incident_days(day, last) VALUES ('2026-02-16', 999)`); err != nil {
		t.Fatal(err)
	}
	got, err := s.CreateIncident(ctx, Incident{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "INC-2026-02-16-1000" {
		t.Errorf("ID = %s, want INC-2026-02-16-1000", got.ID)
	}
}

func TestIncidentRoundTripWithTimeline(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	alertID, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
	if err != nil {
		t.Fatal(err)
	}
	created, err := s.CreateIncident(ctx, Incident{Title: "ClickHouse OOM loop", Service: "clickhouse",
		Severity: "critical", AlertID: alertID, Env: EnvSimulated})
	if err != nil {
		t.Fatal(err)
	}
	want := Incident{ID: "INC-2026-02-16-001", OpenedAt: t0, Title: "ClickHouse OOM loop", Service: "clickhouse",
		Severity: "critical", Status: StatusOpen, AlertID: alertID, UpdatedAt: t0, Env: EnvSimulated}
	if !reflect.DeepEqual(created, want) {
		t.Errorf("CreateIncident =\n %+v\nwant\n %+v", created, want)
	}

	entries := []TimelineEntry{
		{At: t0.Add(time.Minute), Kind: "action", Text: "restartPods clickhouse"},
		{At: t0.Add(2 * time.Minute), Kind: "action", Text: "updateResources memory 4Gi -> 8Gi"},
	}
	for _, e := range []TimelineEntry{entries[1], entries[0]} { // out of order on purpose
		if err := s.AppendTimeline(ctx, created.ID, e); err != nil {
			t.Fatal(err)
		}
	}
	clk.SetTime(t0.Add(5 * time.Minute))
	if err := s.AppendTimeline(ctx, created.ID, TimelineEntry{Kind: "status", Text: "escalated"}); err != nil {
		t.Fatal(err)
	}
	entries = append(entries, TimelineEntry{At: t0.Add(5 * time.Minute), Kind: "status", Text: "escalated"})
	clk.SetTime(t0.Add(6 * time.Minute))
	if err := s.SetIncidentStatus(ctx, created.ID, StatusEscalated); err != nil {
		t.Fatal(err)
	}

	got, timeline, err := s.GetIncident(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	want.Status, want.UpdatedAt = StatusEscalated, t0.Add(6*time.Minute)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetIncident =\n %+v\nwant\n %+v", got, want)
	}
	if !reflect.DeepEqual(timeline, entries) {
		t.Errorf("timeline =\n %+v\nwant\n %+v", timeline, entries)
	}
}

func TestIncidentErrors(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	inc, err := s.CreateIncident(ctx, Incident{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"create without title", func() error { _, err := s.CreateIncident(ctx, Incident{}); return err }, ErrInvalid},
		{"create with unknown status", func() error {
			_, err := s.CreateIncident(ctx, Incident{Title: "t", Status: "closed"})
			return err
		}, ErrInvalid},
		{"set unknown status", func() error { return s.SetIncidentStatus(ctx, inc.ID, "closed") }, ErrInvalid},
		{"set status of unknown incident", func() error { return s.SetIncidentStatus(ctx, "INC-nope", StatusResolved) }, ErrNotFound},
		{"append to unknown incident", func() error {
			return s.AppendTimeline(ctx, "INC-nope", TimelineEntry{Kind: "note"})
		}, ErrNotFound},
		{"append without kind", func() error { return s.AppendTimeline(ctx, inc.ID, TimelineEntry{Text: "x"}) }, ErrInvalid},
		{"get unknown incident", func() error { _, _, err := s.GetIncident(ctx, "INC-nope"); return err }, ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}
		})
	}
	// A failed create consumes no sequence number.
	next, err := s.CreateIncident(ctx, Incident{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if next.ID != "INC-2026-02-16-002" {
		t.Errorf("ID after failed creates = %s, want INC-2026-02-16-002", next.ID)
	}
}

func TestListIncidents(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	statuses := []IncidentStatus{StatusResolved, StatusOpen, StatusMitigated, StatusEscalated, StatusResolved}
	var ids []string
	for i, st := range statuses {
		clk.SetTime(t0.Add(time.Duration(i) * time.Hour))
		inc, err := s.CreateIncident(ctx, Incident{Title: fmt.Sprint(i), Status: st})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}
	cases := []struct {
		name     string
		openOnly bool
		limit    int
		want     []string
	}{
		{"all newest first", false, 0, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"open only excludes resolved", true, 0, []string{ids[3], ids[2], ids[1]}},
		{"limit", false, 2, []string{ids[4], ids[3]}},
		{"open only with limit", true, 1, []string{ids[3]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListIncidents(ctx, c.openOnly, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, in := range got {
				gotIDs = append(gotIDs, in.ID)
			}
			if !reflect.DeepEqual(gotIDs, c.want) {
				t.Errorf("ids = %v, want %v", gotIDs, c.want)
			}
		})
	}
}

// TestConcurrentIncidentIDsAreUniqueAcrossHandles opens two Stores on one file
// (as two processes would) and creates incidents from many goroutines on both:
// every ID must be distinct and the sequence must have no gaps.
func TestConcurrentIncidentIDsAreUniqueAcrossHandles(t *testing.T) {
	ctx := context.Background()
	path := newLocation(t, filepath.Join(t.TempDir(), "h.db"))
	clk := newClock()
	stores := []*Store{openFile(t, path, clk), openFile(t, path, clk)}
	const goroutines, each = 8, 10
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
		errs = make(chan error, goroutines*each)
	)
	for g := range goroutines {
		wg.Go(func() {
			s := stores[g%len(stores)]
			for range each {
				inc, err := s.CreateIncident(ctx, Incident{Title: fmt.Sprint("g", g)})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seen[inc.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("CreateIncident: %v", err)
	}
	format := regexp.MustCompile(`^INC-2026-02-16-\d{3}$`)
	for id, n := range seen {
		if n != 1 {
			t.Errorf("ID %s handed out %d times", id, n)
		}
		if !format.MatchString(id) {
			t.Errorf("ID %s does not match %s", id, format)
		}
	}
	for i := 1; i <= goroutines*each; i++ {
		if id := fmt.Sprintf("INC-2026-02-16-%03d", i); seen[id] != 1 {
			t.Errorf("ID %s missing", id)
		}
	}
	all, err := stores[1].ListIncidents(ctx, false, maxLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != goroutines*each {
		t.Errorf("stored incidents = %d, want %d", len(all), goroutines*each)
	}
}

func TestResolveIncidentByHand(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	inc, err := s.CreateIncident(ctx, Incident{Title: "backend CPU", Service: "backend"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIncidentStatus(ctx, inc.ID, StatusEscalated); err != nil {
		t.Fatal(err)
	}
	clk.SetTime(clk.Now().Add(time.Minute))
	entry := TimelineEntry{Kind: "resolved", Text: "resolved by hand: the leak is fixed in 1.4.2"}
	was, err := s.ResolveIncident(ctx, inc.ID, entry)
	if err != nil || was != StatusEscalated {
		t.Fatalf("ResolveIncident = %s, %v; want escalated, nil", was, err)
	}
	got, tl, err := s.GetIncident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusResolved || !got.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("incident %+v, want resolved, updated now", got)
	}
	if len(tl) != 1 || tl[0].Kind != entry.Kind || tl[0].Text != entry.Text {
		t.Errorf("timeline %+v, want the one resolved entry", tl)
	}

	// Again: nothing changes, and it says what the incident was.
	was, err = s.ResolveIncident(ctx, inc.ID, entry)
	if err != nil || was != StatusResolved {
		t.Errorf("second ResolveIncident = %s, %v; want resolved, nil", was, err)
	}
	if _, tl, _ := s.GetIncident(ctx, inc.ID); len(tl) != 1 {
		t.Errorf("timeline has %d entries after resolving twice, want 1", len(tl))
	}

	if _, err := s.ResolveIncident(ctx, "INC-2026-02-16-404", entry); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown incident: %v, want ErrNotFound", err)
	}
	if _, err := s.ResolveIncident(ctx, inc.ID, TimelineEntry{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty entry: %v, want ErrInvalid", err)
	}
}
