package serve

import "sync"

// seen remembers the delivery keys this process queued during the current
// leadership term, up to a bound (the oldest are forgotten first; the shared
// ledger still knows them). It answers the common duplicate — the same
// notification from both Alertmanager peers, or a retry — without touching
// the database.
type seen struct {
	mu    sync.Mutex
	limit int
	keys  map[string]struct{}
	order []string // insertion order, a ring of at most limit keys
	next  int
}

func newSeen(limit int) *seen {
	return &seen{limit: max(limit, 1), keys: map[string]struct{}{}}
}

// addAll adds the keys not yet seen and returns them (in order, once each).
func (s *seen) addAll(keys []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var fresh []string
	for _, k := range keys {
		if _, ok := s.keys[k]; ok {
			continue
		}
		s.add(k)
		fresh = append(fresh, k)
	}
	return fresh
}

func (s *seen) add(k string) {
	if len(s.order) < s.limit {
		s.order = append(s.order, k)
	} else {
		delete(s.keys, s.order[s.next])
		s.order[s.next] = k
		s.next = (s.next + 1) % s.limit
	}
	s.keys[k] = struct{}{}
}

// forget removes keys (their jobs could not be queued).
func (s *seen) forget(keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.keys, k) // the ring slot stays; evicting a missing key is harmless
	}
}

// reset forgets everything (a new leadership term starts from the ledger).
func (s *seen) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.order, s.next = map[string]struct{}{}, nil, 0
}
