package compose

import (
	"errors"
	"sync"
)

// Stack is the one cleanup stack of a composition: everything opened on the
// way (the history database, a cluster's informers, the notification queue)
// pushes its release, and Close releases them in reverse order, once, so a
// composition that fails half-way leaves nothing open.
type Stack struct {
	mu  sync.Mutex
	fns []func() error
}

// Push adds a release to run at Close.
func (s *Stack) Push(fn func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fns = append(s.fns, fn)
}

// Close runs the releases, newest first, and joins their errors. Later calls
// do nothing.
func (s *Stack) Close() error {
	s.mu.Lock()
	fns := s.fns
	s.fns = nil
	s.mu.Unlock()
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		errs = append(errs, fns[i]())
	}
	return errors.Join(errs...)
}
