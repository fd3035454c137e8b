package tools

import (
	"context"
	"encoding/json"

	"github.com/duet-company/ops-skill/internal/guard"
)

// about is what every tool declares in code: its name, its risk and what it does.
type about struct {
	name Name
	risk Risk
	desc string
}

// spec describes a tool of arguments A to planners.
func spec[A Validator](t about) Spec {
	var zero A
	return Spec{Name: t.name, Description: t.desc, Risk: t.risk.String(), Parameters: schemaOf(zero), Required: requiredNames(zero)}
}

// readFunc runs a read or a record of arguments A.
type readFunc[A Validator] func(ctx context.Context, run *Run, a A) (Answer, error)

// planFunc plans a write of arguments A.
type planFunc[A Validator] func(ctx context.Context, run *Run, a A) (Plan, error)

// reader is a read or a record tool of arguments A: the gate runs it as soon
// as it admits the call.
type reader[A Validator] struct {
	about
	read readFunc[A]
	// preview says what a record would do, for its dry run in observe mode.
	preview func(a A) string
}

func (t reader[A]) Spec() Spec { return spec[A](t.about) }
func (t reader[A]) Risk() Risk { return t.risk }

func (t reader[A]) Decode(raw json.RawMessage) (Request, error) {
	a, err := decodeStrict[A](string(t.name), raw)
	if err != nil {
		return nil, err
	}
	q := readRequest[A]{bound[A]{a}, t.read}
	switch {
	case t.preview != nil:
		return recordRequest[A]{q, t.preview}, nil
	case isConfiner[A](a):
		return confinedRequest[A]{q}, nil
	}
	return q, nil
}

// writer is a write tool of arguments A: it plans, the gate applies the plan by mode.
type writer[A Validator] struct {
	about
	plan planFunc[A]
}

func (t writer[A]) Spec() Spec { return spec[A](t.about) }
func (t writer[A]) Risk() Risk { return t.risk }

func (t writer[A]) Decode(raw json.RawMessage) (Request, error) {
	a, err := decodeStrict[A](string(t.name), raw)
	if err != nil {
		return nil, err
	}
	return writeRequest[A]{bound[A]{a}, t.plan}, nil
}

// unavailable is the read of a tool built without a backend it needs.
func unavailable[A Validator](err error) readFunc[A] {
	return func(context.Context, *Run, A) (Answer, error) { return Answer{}, err }
}

// unplannable is the plan of a write tool built without a backend it needs.
func unplannable[A Validator](err error) planFunc[A] {
	return func(context.Context, *Run, A) (Plan, error) { return Plan{}, err }
}

// scoped is implemented by args that target a namespace.
type scoped interface {
	namespace() string
}

// unscoped is implemented by args that may name no namespace at all (raw
// PromQL); the allowlist is then checked only when a namespace is given,
// and the args confine themselves to the scope (confiner).
type unscoped interface {
	noNamespace() bool
}

// confiner is implemented by args whose reach the scope narrows, not only
// checks: confine returns them confined to the scope, a *guard.Violation
// when they ask for more than it allows, or an invalid-argument error.
type confiner[A any] interface {
	confine(guard.Scope) (A, error)
}

func isConfiner[A any](a A) bool {
	_, ok := any(a).(confiner[A])
	return ok
}

// targeted is implemented by args that name what they act on.
type targeted interface {
	target() string
}

// bound holds the decoded arguments of a request and answers for them.
type bound[A Validator] struct{ a A }

func (b bound[A]) Target() string {
	if tg, ok := any(b.a).(targeted); ok {
		return tg.target()
	}
	return ""
}

func (b bound[A]) Namespace() (string, bool) {
	if u, ok := any(b.a).(unscoped); ok && u.noNamespace() {
		return "", false
	}
	if sc, ok := any(b.a).(scoped); ok {
		return sc.namespace(), true
	}
	return "", false
}

type readRequest[A Validator] struct {
	bound[A]
	read readFunc[A]
}

func (q readRequest[A]) Read(ctx context.Context, run *Run) (Answer, error) {
	return q.read(ctx, run, q.a)
}

// confinedRequest is the read of args that confine themselves to the scope.
type confinedRequest[A Validator] struct {
	readRequest[A]
}

func (q confinedRequest[A]) Confine(s guard.Scope) (Request, error) {
	a, err := any(q.a).(confiner[A]).confine(s)
	if err != nil {
		return nil, err
	}
	q.a = a
	return q, nil
}

type recordRequest[A Validator] struct {
	readRequest[A]
	preview func(A) string
}

func (q recordRequest[A]) Preview() string { return q.preview(q.a) }

type writeRequest[A Validator] struct {
	bound[A]
	plan planFunc[A]
}

func (q writeRequest[A]) Plan(ctx context.Context, run *Run) (Plan, error) {
	return q.plan(ctx, run, q.a)
}
