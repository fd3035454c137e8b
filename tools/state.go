package tools

import (
	"context"
	"sync"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

// MemoryState is a StateStore kept in memory: the guard state of one run of
// the simulated platform (which is new on every run), and of tests.
type MemoryState struct {
	mu sync.Mutex
	m  map[platform.WorkloadRef]guard.WorkloadState
}

// NewMemoryState returns an empty in-memory StateStore.
func NewMemoryState() *MemoryState {
	return &MemoryState{m: map[platform.WorkloadRef]guard.WorkloadState{}}
}

// Load returns the state of a workload; the zero state when none was saved.
func (st *MemoryState) Load(_ context.Context, ref platform.WorkloadRef) (guard.WorkloadState, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.m[ref], nil
}

// Update runs fn on the workload's state and keeps the result unless fn fails.
func (st *MemoryState) Update(_ context.Context, ref platform.WorkloadRef, fn func(*guard.WorkloadState) error) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[ref]
	if err := fn(&s); err != nil {
		return err
	}
	st.m[ref] = s
	return nil
}

// Len reports how many workloads have a saved state.
func (st *MemoryState) Len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}
