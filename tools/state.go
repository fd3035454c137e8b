package tools

import (
	"context"
	"sync"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

// StateStore keeps the guard's per-workload state between runs and processes.
// Update runs fn on the current state and saves the result atomically.
type StateStore interface {
	Load(ctx context.Context, ref platform.WorkloadRef) (guard.WorkloadState, error)
	Update(ctx context.Context, ref platform.WorkloadRef, fn func(*guard.WorkloadState) error) error
}

// noState is the StateStore of tools built without one: the guard's state
// lives only in the workload annotation, nothing is kept besides.
type noState struct{}

func (noState) Load(context.Context, platform.WorkloadRef) (guard.WorkloadState, error) {
	return guard.WorkloadState{}, nil
}

func (noState) Update(context.Context, platform.WorkloadRef, func(*guard.WorkloadState) error) error {
	return nil
}

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
