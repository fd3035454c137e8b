package plain

import (
	"io"
	"sync"

	"github.com/duet-company/ops-skill/internal/agent"
)

// JSONLines writes one JSON object per event, each with a "type" field; the
// last line of a run is its summary.
type JSONLines struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// NewJSONLines writes events to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// Emit writes one event.
func (j *JSONLines) Emit(e agent.Event) {
	b, err := agent.MarshalEvent(e)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.err = err
		return
	}
	if _, err := j.w.Write(append(b, '\n')); err != nil && j.err == nil {
		j.err = err
	}
}

// Err reports the first write or encoding error.
func (j *JSONLines) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}
