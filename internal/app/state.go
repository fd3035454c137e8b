package app

import (
	"context"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
)

// pagerKeys remembers the PagerDuty dedup key open for each target in the
// history database, so a later run resolves the page an earlier one opened.
type pagerKeys struct {
	s   *store.Store
	env string
}

func (k pagerKeys) Get(ctx context.Context, target string) (string, bool, error) {
	raw, err := k.s.LoadState(ctx, k.env, "pager/"+target)
	if err != nil || raw == nil {
		return "", false, err
	}
	return string(raw), true, nil
}

func (k pagerKeys) Put(ctx context.Context, target, key string) error {
	return k.s.UpdateState(ctx, k.env, "pager/"+target, func([]byte) ([]byte, error) { return []byte(key), nil })
}

func (k pagerKeys) Delete(ctx context.Context, target string) error {
	return k.s.UpdateState(ctx, k.env, "pager/"+target, func([]byte) ([]byte, error) { return nil, nil })
}

// storeState keeps the guard state in the history database, shared by
// concurrent invocations on one machine.
type storeState struct {
	s   *store.Store
	env string
}

func (st storeState) Load(ctx context.Context, ref platform.WorkloadRef) (guard.WorkloadState, error) {
	raw, err := st.s.LoadState(ctx, st.env, ref.String())
	if err != nil || raw == nil {
		return guard.WorkloadState{}, err
	}
	return guard.DecodeState(string(raw))
}

func (st storeState) Update(ctx context.Context, ref platform.WorkloadRef, fn func(*guard.WorkloadState) error) error {
	return st.s.UpdateState(ctx, st.env, ref.String(), func(old []byte) ([]byte, error) {
		var s guard.WorkloadState
		if old != nil {
			var err error
			if s, err = guard.DecodeState(string(old)); err != nil {
				return nil, err
			}
		}
		if err := fn(&s); err != nil {
			return nil, err
		}
		return []byte(s.Encode()), nil
	})
}
