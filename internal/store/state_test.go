package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestStateLoadAndUpdate(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	const env, key = EnvSimulated, "ai-data-labs/backend"

	if got, err := s.LoadState(ctx, env, key); err != nil || got != nil {
		t.Fatalf("LoadState of absent key = %q, %v; want nil, nil", got, err)
	}
	var sawOld []byte
	set := func(v []byte) func([]byte) ([]byte, error) {
		return func(old []byte) ([]byte, error) { sawOld = old; return v, nil }
	}
	steps := []struct {
		name    string
		fn      func([]byte) ([]byte, error)
		wantOld []byte
		want    []byte
	}{
		{"create", set([]byte(`{"v":1}`)), nil, []byte(`{"v":1}`)},
		{"replace", set([]byte(`{"v":2}`)), []byte(`{"v":1}`), []byte(`{"v":2}`)},
		{"empty value is kept", set([]byte{}), []byte(`{"v":2}`), []byte{}},
		{"nil deletes", set(nil), []byte{}, nil},
		{"recreate", set([]byte("x")), nil, []byte("x")},
	}
	for _, st := range steps {
		if err := s.UpdateState(ctx, env, key, st.fn); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !reflect.DeepEqual(sawOld, st.wantOld) {
			t.Errorf("%s: fn saw old %q, want %q", st.name, sawOld, st.wantOld)
		}
		got, err := s.LoadState(ctx, env, key)
		if err != nil || !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: LoadState = %#v, %v; want %#v", st.name, got, err, st.want)
		}
	}
	if got, _ := s.LoadState(ctx, "prod", key); got != nil {
		t.Errorf("state leaked across envs: %q", got)
	}
}

func TestUpdateStateErrorLeavesStateUnchanged(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	if err := s.UpdateState(ctx, "e", "k", func([]byte) ([]byte, error) { return []byte("keep"), nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.UpdateState(ctx, "e", "k", func([]byte) ([]byte, error) { return []byte("lost"), boom })
	if !errors.Is(err, boom) {
		t.Errorf("UpdateState error = %v, want wrapping %v", err, boom)
	}
	if got, _ := s.LoadState(ctx, "e", "k"); string(got) != "keep" {
		t.Errorf("state after failed update = %q, want keep", got)
	}
}

// TestUpdateStateIsAtomicAcrossHandles increments one counter from many
// goroutines on two Stores sharing a file; a lost update or an interleaved
// read-modify-write would leave the counter short.
func TestUpdateStateIsAtomicAcrossHandles(t *testing.T) {
	ctx := context.Background()
	path := newLocation(t, filepath.Join(t.TempDir(), "h.db"))
	clk := newClock()
	stores := []*Store{openFile(t, path, clk), openFile(t, path, clk)}
	const goroutines, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			s := stores[g%2]
			for range each {
				err := s.UpdateState(ctx, "prod", "ai-data-labs/backend", func(old []byte) ([]byte, error) {
					n := 0
					if old != nil {
						var err error
						if n, err = strconv.Atoi(string(old)); err != nil {
							return nil, err
						}
					}
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("UpdateState: %v", err)
	}
	got, err := stores[0].LoadState(ctx, "prod", "ai-data-labs/backend")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(goroutines * each); string(got) != want {
		t.Errorf("counter = %s, want %s", got, want)
	}
}

func TestThresholdChanges(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	changes := []ThresholdChange{
		{At: t0.Add(-time.Hour), Key: "scale_up.cpu", Old: "80", New: "85", Who: "alice"},
		{Key: "alerting.cooldown", Old: "5m", New: "15m", Who: "bob"}, // At from the clock
	}
	for _, c := range changes {
		if err := s.RecordThresholdChange(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordThresholdChange(ctx, ThresholdChange{New: "1"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("change without key: error = %v, want ErrInvalid", err)
	}
	got, err := s.ListThresholdChanges(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []ThresholdChange{changes[1], changes[0]}
	want[0].ID, want[0].At = 2, t0
	want[1].ID = 1
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListThresholdChanges =\n %+v\nwant\n %+v", got, want)
	}
	if got, _ := s.ListThresholdChanges(ctx, 1); len(got) != 1 || got[0].Key != "alerting.cooldown" {
		t.Errorf("limit 1 = %+v, want the newest only", got)
	}
}
