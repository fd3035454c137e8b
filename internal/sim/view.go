package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Event limits of a workload view, as the Kubernetes event TTL would give.
const (
	eventTTL    = time.Hour
	maxEvents   = 20
	oomExitCode = 137
)

// view renders the observed state of s at now; callers hold the lock.
func (s *service) view(now time.Time) platform.Workload {
	cur := s.current()
	w := platform.Workload{
		Ref:             s.ref,
		Kind:            s.spec.Kind,
		Replicas:        s.replicas,
		Paused:          s.paused,
		Annotations:     copyMap(s.annotations),
		AutoscaledBy:    s.spec.AutoscaledBy,
		Containers:      append([]platform.Container(nil), cur.containers...),
		ResourceVersion: s.resourceVersion(),
		Generation:      s.generation,
		Pods:            []platform.Pod{},
	}
	latest := len(s.templates) - 1
	var loops []platform.Event
	for _, pd := range s.alive(now) {
		st := s.status(pd, now)
		w.Pods = append(w.Pods, s.podView(pd, st))
		if st.ready {
			w.ReadyReplicas++
		}
		if pd.tmpl == latest && pd.deleted.IsZero() {
			w.UpdatedReplicas++
		}
		if st.crashLoop {
			loops = append(loops, s.backOffEvent(pd, st, now))
		}
	}
	w.AvailableReplicas = w.ReadyReplicas
	w.Events = s.recentEvents(loops, now)
	return w
}

func (s *service) podView(pd *pod, st podStatus) platform.Pod {
	out := platform.Pod{Name: pd.name, Phase: "Running", Ready: st.ready, Restarts: int32(st.restarts), StartedAt: pd.created}
	if st.crashLoop {
		out.WaitingReason = "CrashLoopBackOff"
	}
	if n := len(st.last); n > 0 {
		out.LastTerm = &platform.Termination{Reason: "OOMKilled", ExitCode: oomExitCode, FinishedAt: st.last[n-1]}
	}
	return out
}

func (s *service) backOffEvent(pd *pod, st podStatus, now time.Time) platform.Event {
	c := s.spec.Memory.Container
	return platform.Event{
		Time: st.last[len(st.last)-1], Type: "Warning", Reason: "BackOff", Object: "Pod/" + pd.name,
		Message: fmt.Sprintf("Back-off restarting failed container %s in pod %s (x%d over %s, last exit: OOMKilled, code %d)",
			c, pd.name, st.restarts, shortDuration(now.Sub(st.loopStart)), oomExitCode),
	}
}

// recentEvents merges the stored events of the last hour with the live ones,
// oldest first, keeping the newest maxEvents.
func (s *service) recentEvents(live []platform.Event, now time.Time) []platform.Event {
	var out []platform.Event
	for _, ev := range s.events {
		if !ev.Time.After(now) && now.Sub(ev.Time) <= eventTTL {
			out = append(out, ev)
		}
	}
	out = append(out, live...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if len(out) > maxEvents {
		out = out[len(out)-maxEvents:]
	}
	return out
}

func (s *service) event(now time.Time, typ, reason, object, format string, args ...any) {
	s.events = append(s.events, platform.Event{Time: now, Type: typ, Reason: reason, Object: object,
		Message: fmt.Sprintf(format, args...)})
}

func (s *service) object() string { return s.spec.Kind + "/" + s.spec.Name }

// shortDuration renders a duration to the minute without trailing zero units ("1h59m").
func shortDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "<1m"
	}
	out := strings.TrimSuffix(d.String(), "0s")
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
