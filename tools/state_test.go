package tools_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

func TestMemoryStateKeepsUpdatesAndDropsFailedOnes(t *testing.T) {
	ctx := context.Background()
	st := tools.NewMemoryState()
	if s, _ := st.Load(ctx, ref("backend")); !s.LastScaleUp.IsZero() || st.Len() != 0 {
		t.Fatalf("new state = %+v, len %d", s, st.Len())
	}
	if err := st.Update(ctx, ref("backend"), func(s *guard.WorkloadState) error { s.LastScaleUp = t0; return nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := st.Update(ctx, ref("backend"), func(s *guard.WorkloadState) error { s.LastScaleUp = t0.Add(time.Hour); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if s, _ := st.Load(ctx, ref("backend")); !s.LastScaleUp.Equal(t0) || st.Len() != 1 {
		t.Errorf("state = %+v, len %d: a failed update must change nothing", s, st.Len())
	}
}
