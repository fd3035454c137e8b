package serve

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
)

// Errors of the queue.
var (
	// ErrQueueFull means the jobs of a delivery do not fit: answer 503.
	ErrQueueFull = errors.New("the work queue is full")
	// ErrQueueClosed means the server is shutting down.
	ErrQueueClosed = errors.New("the work queue is closed")
)

// jobKind is what a job does.
type jobKind string

const (
	jobAlert    jobKind = "alert"      // a firing alert from Alertmanager: an agent run
	jobResolve  jobKind = "resolve"    // a resolved alert: close its incident, stop its timer
	jobHealth   jobKind = "health"     // a failing health check past the ladder's threshold: an agent run
	jobScale    jobKind = "scale"      // the scaling loop's proposal for one workload
	jobEscalate jobKind = "escalation" // an alert still firing ESCALATION_HOURS after it started: an agent run
)

// job is one unit of work. Jobs of the same lane (namespace/service) run one
// at a time, in order.
type job struct {
	kind     jobKind
	lane     string
	key      string // the delivery key (alert, resolve); empty for loop jobs
	fp       string // the alert's fingerprint (alert, resolve, health, escalation)
	busy     string // the loop's coalescing key (health, scale, escalation)
	alert    alert.Alert
	endsAt   time.Time            // resolve: when Alertmanager says it ended
	workload platform.WorkloadRef // scale
	term     uint64               // the leadership term that queued it
	queued   time.Time
}

// lane is the queue of one workload.
type lane struct {
	key     string
	jobs    []*job
	running bool
}

// queue is a bounded queue of jobs with per-lane serialisation: a worker
// takes the first job of the oldest ready lane, and the lane is not ready
// again until that job is done.
type queue struct {
	mu       sync.Mutex
	capacity int
	size     int
	lanes    map[string]*lane
	ready    []*lane
	wake     chan struct{} // closed and replaced whenever a job may be taken
	closed   bool
	depth    func(int)
}

func newQueue(capacity int, depth func(int)) *queue {
	if depth == nil {
		depth = func(int) {}
	}
	return &queue{capacity: capacity, lanes: map[string]*lane{}, wake: make(chan struct{}), depth: depth}
}

// push queues all the jobs or none of them.
func (q *queue) push(jobs ...*job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return ErrQueueClosed
	case q.size+len(jobs) > q.capacity:
		return ErrQueueFull
	}
	for _, j := range jobs {
		l := q.lanes[j.lane]
		if l == nil {
			l = &lane{key: j.lane}
			q.lanes[j.lane] = l
		}
		if len(l.jobs) == 0 && !l.running {
			q.ready = append(q.ready, l)
		}
		l.jobs = append(l.jobs, j)
		q.size++
	}
	q.changed()
	return nil
}

// pop takes the next job, waiting for one. It returns false when ctx ends, or
// when the queue is closed and empty.
func (q *queue) pop(ctx context.Context) (*job, bool) {
	for {
		q.mu.Lock()
		if len(q.ready) > 0 {
			l := q.ready[0]
			q.ready = q.ready[1:]
			j := l.jobs[0]
			l.jobs = l.jobs[1:]
			l.running = true
			q.size--
			q.depth(q.size)
			q.mu.Unlock()
			return j, true
		}
		if q.closed && q.size == 0 {
			q.mu.Unlock()
			return nil, false
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false
		case <-wake:
		}
	}
}

// done ends the job a worker took: its lane may run the next one.
func (q *queue) done(j *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.lanes[j.lane]
	if l == nil {
		return
	}
	l.running = false
	if len(l.jobs) > 0 {
		q.ready = append(q.ready, l)
		q.changed()
		return
	}
	delete(q.lanes, j.lane)
	q.changed() // a closed queue may now be empty
}

// remove takes the queued (not running) jobs that match out of the queue.
func (q *queue) remove(match func(*job) bool) []*job {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*job
	for key, l := range q.lanes {
		kept := l.jobs[:0]
		for _, j := range l.jobs {
			if match(j) {
				out = append(out, j)
				continue
			}
			kept = append(kept, j)
		}
		l.jobs = kept
		if len(l.jobs) == 0 && !l.running {
			delete(q.lanes, key)
		}
	}
	if len(out) > 0 {
		q.size -= len(out)
		q.dropEmptyReady()
		q.changed()
	}
	return out
}

// dropEmptyReady removes lanes left without jobs from the ready list.
func (q *queue) dropEmptyReady() {
	kept := q.ready[:0]
	for _, l := range q.ready {
		if len(l.jobs) > 0 {
			kept = append(kept, l)
		}
	}
	q.ready = kept
}

// has reports whether a queued job matches.
func (q *queue) has(match func(*job) bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, l := range q.lanes {
		for _, j := range l.jobs {
			if match(j) {
				return true
			}
		}
	}
	return false
}

// len is the number of queued jobs.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.size
}

// close refuses new jobs; pop hands out what is queued, then reports false.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.changed()
}

// changed wakes the waiting workers; q.mu is held.
func (q *queue) changed() {
	q.depth(q.size)
	close(q.wake)
	q.wake = make(chan struct{})
}
