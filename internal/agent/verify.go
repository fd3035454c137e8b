package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// signal is the reading of what triggered the alert.
type signal struct {
	name  string
	value float64
	known bool
	ok    bool // within the healthy range
	text  string
	lower bool // lower values are better
}

// signalFrom reads the alert's signal from tool outcomes (snapshot or re-check).
func (r *run) signalFrom(outs []tools.Outcome) signal {
	for _, o := range outs {
		if o.Status != tools.StatusOK {
			continue
		}
		if s, ok := r.readSignal(o); ok {
			return s
		}
	}
	return signal{name: string(r.al.Kind), text: "unknown"}
}

func (r *run) readSignal(o tools.Outcome) (signal, bool) {
	cfg := r.a.cfg
	switch res := o.Result.(type) {
	case tools.MetricSummary:
		if len(res.Series) == 0 {
			return signal{}, false
		}
		v := res.Series[0].Last
		s := signal{name: metricLabel(res.Metric), value: v, known: true, lower: true, text: fmt.Sprintf("%.0f%s", v, res.Unit)}
		switch r.al.Kind {
		case alert.KindCPU:
			s.ok = v < cfg.Targets.CPUPct
		case alert.KindErrorRate:
			s.ok = v < cfg.Targets.ErrorRatePct
		case alert.KindLatency:
			s.ok = v < cfg.Targets.LatencyMs
		default:
			return signal{}, false
		}
		return s, true
	case tools.ServiceStatus:
		if !podsSignal(r.al.Kind) {
			return signal{}, false
		}
		ok := res.Replicas > 0 && res.Ready >= res.Replicas && res.CrashLooping == 0
		return signal{name: "Pods", value: float64(res.Ready), known: true, ok: ok,
			text: fmt.Sprintf("%d/%d ready, %s", res.Ready, res.Replicas, res.Status)}, true
	case []platform.HealthResult:
		if r.al.Kind != alert.KindHealth {
			return signal{}, false
		}
		return healthSignal(res)
	case tools.VolumeStatus:
		if r.al.Kind != alert.KindDisk {
			return signal{}, false
		}
		return volumeSignal(res, cfg.Targets.DiskPct), true
	case tools.StorageReport:
		if len(res.Disks) == 0 {
			return signal{}, false
		}
		d := res.Disks[0]
		return signal{name: "Disk usage", value: d.UsagePct, known: true, lower: true, ok: d.UsagePct < cfg.Targets.DiskPct,
			text: fmt.Sprintf("%.0f%% (%s / %s)", d.UsagePct, d.Used, d.Total)}, true
	}
	return signal{}, false
}

// metricLabel names a metric the way the transcript shows it.
func metricLabel(m string) string {
	switch m {
	case "cpu_utilization":
		return "CPU"
	case "error_rate":
		return "Error rate"
	case "latency_p99_ms":
		return "p99 latency"
	case "memory_utilization":
		return "Memory"
	}
	return m
}

func podsSignal(k alert.Kind) bool {
	switch k {
	case alert.KindMemory, alert.KindCrashLoop, alert.KindConnection, alert.KindHealth:
		return true
	}
	return false
}

// clickHouseVolume reports whether a disk alert is about ClickHouse's volume
// (or names no workload, as a text alert may): only then is the ClickHouse
// storage its signal.
func (r *run) clickHouseVolume() bool {
	w := r.a.cfg.StorageWorkload
	return w == "" || r.ref.Name == "" || r.ref.Name == w
}

// claim is the PersistentVolumeClaim the alert is about, when its subject is one.
func (r *run) claim() (platform.VolumeRef, bool) {
	if r.sit.Facts.Subject == nil {
		return platform.VolumeRef{}, false
	}
	o := r.sit.Facts.Subject.Object
	if o.Kind != platform.ObjectPVC || o.Name == "" {
		return platform.VolumeRef{}, false
	}
	return platform.VolumeRef{Namespace: firstNonEmpty(o.Namespace, r.ref.Namespace), Name: o.Name}, true
}

// fillsSoon is how soon a volume may be predicted full and still count as
// resolved: KubePersistentVolumeFillingUp warns at four days.
const fillsSoon = 4

// volumeSignal reads a claim from its status: resolved when its expansion
// is complete (the capacity reached the request) and its measured usage is
// below the disk target and not predicted full within four days. A capacity
// that has not grown yet, or a usage that cannot be read, is not resolved.
func volumeSignal(v tools.VolumeStatus, target float64) signal {
	s := signal{name: "Volume", known: true, lower: true, value: v.Usage()}
	if v.UsageKnown() {
		s.text = fmt.Sprintf("%.0f%% of %s", v.Usage(), v.Capacity)
	} else {
		s.text = "capacity " + v.Capacity + ", usage unknown"
	}
	if v.Expansion != tools.ExpansionComplete {
		s.text += fmt.Sprintf(" (%s requested: %s)", v.Requested, strings.ReplaceAll(string(v.Expansion), "_", " "))
	}
	soon := v.DaysToFull > 0 && v.DaysToFull < fillsSoon
	if soon {
		s.text += fmt.Sprintf(", full in %.1f days", v.DaysToFull)
	}
	s.ok = v.Expansion == tools.ExpansionComplete && v.UsageKnown() && v.Usage() < target && !soon
	return s
}

// recheck reads the signal again by code; a metric only from the samples
// after since, when the change's time is known.
func (r *run) recheck(ctx context.Context, since time.Time) signal {
	var outs []tools.Outcome
	wl := map[string]string{"namespace": r.ref.Namespace, "name": r.ref.Name}
	switch {
	case r.al.Kind == alert.KindDisk && r.clickHouseVolume():
		outs = append(outs, r.codeCall(ctx, PhaseVerify, tools.CheckStorage, map[string]string{}))
	case r.al.Kind == alert.KindDisk:
		// Another workload's volume: ClickHouse's disk says nothing of it;
		// the claim's own status and usage do, when the alert names it.
		if claim, ok := r.claim(); ok {
			outs = append(outs, r.codeCall(ctx, PhaseVerify, tools.GetVolume, map[string]string{"namespace": claim.Namespace, "name": claim.Name}))
		}
	case r.al.Kind == alert.KindCPU || r.al.Kind == alert.KindErrorRate || r.al.Kind == alert.KindLatency:
		args := map[string]string{"namespace": r.ref.Namespace, "name": r.ref.Name, "metric": string(metricFor(r.al.Kind))}
		if !since.IsZero() {
			args["since"] = since.UTC().Format(time.RFC3339Nano)
		}
		outs = append(outs, r.codeCall(ctx, PhaseVerify, tools.QueryMetrics, args))
	default:
		if r.ref.Name != "" {
			outs = append(outs, r.codeCall(ctx, PhaseVerify, tools.GetServiceStatus, wl))
		}
	}
	s := r.signalFrom(outs)
	if r.al.Kind == alert.KindHealth || r.al.Kind == alert.KindConnection {
		s = r.withHealth(ctx, s)
	}
	return s
}

// withHealth requires the service's health check to pass as well.
func (r *run) withHealth(ctx context.Context, s signal) signal {
	o := r.codeCall(ctx, PhaseVerify, tools.CheckHealth, map[string]string{"service": r.ref.Name})
	if o.Status != tools.StatusOK {
		return s
	}
	hs, _ := o.Result.([]platform.HealthResult)
	for _, h := range hs {
		if !s.known {
			s = signal{name: "Health", known: true, ok: true, text: "health"}
		}
		s.ok = s.ok && h.OK
		s.text += fmt.Sprintf("; %s %s", h.Check, okText(h.OK))
	}
	return s
}

func healthSignal(hs []platform.HealthResult) (signal, bool) {
	if len(hs) == 0 {
		return signal{}, false
	}
	s := signal{name: "Health", known: true, ok: true}
	for i, h := range hs {
		s.ok = s.ok && h.OK
		if i > 0 {
			s.text += "; "
		}
		s.text += fmt.Sprintf("%s %s %s", h.Service, h.Check, okText(h.OK))
		if !h.OK && h.Detail != "" {
			s.text += " (" + text.Clip(h.Detail, 80) + ")"
		}
	}
	return s, true
}

func okText(ok bool) string {
	if ok {
		return "ok"
	}
	return "failing"
}

// verify waits for the settle time after a write and re-reads the signal.
func (r *run) verify(ctx context.Context) {
	if r.stopped || ctx.Err() != nil {
		return
	}
	wrote := false
	for _, o := range r.outcomes {
		wrote = wrote || o.Wrote()
	}
	if r.inChat {
		if !wrote {
			return // a question answered: nothing to verify
		}
		r.targetFromWrites()
	}
	r.phase(PhaseVerify)
	var st Settled
	if wrote && r.a.d.Waiter != nil {
		w := r.wanted()
		r.emitWaiting(w)
		var err error
		if st, err = r.settle(ctx, w); err != nil {
			r.sum.Error = "verification wait: " + err.Error()
			return
		}
	}
	after := r.recheck(ctx, st.Since)
	v := Verified{At: r.now(), Signal: after.name, Before: r.before.text, After: after.text, Result: compare(r.before, after),
		Waited: units.Seconds(st.Waited), Evidence: st.Evidence}
	v.Detail = verifyDetail(v, wrote)
	if wrote {
		r.sum.TimeToResolution = units.Seconds(r.now().Sub(r.started))
	}
	r.sum.Verification = &v
	r.emit(v)
	if v.Result != platform.VerifyResolved {
		r.escalate = true
	}
}

// emitWaiting says what the settle wait is for and when it ends at the latest.
func (r *run) emitWaiting(w settleWanted) {
	now, d := r.now(), r.settleMax(w)
	ev := Waiting{At: now, Until: now.Add(d), For: units.Seconds(d), Reason: r.settling(), Virtual: r.a.cfg.Where.Simulated()}
	if r.awaitsRelease(w) {
		ev.Evidence = WaitSpaceReleased
	}
	if len(w.rollouts) > 0 && r.a.d.Rollouts != nil {
		ev.Evidence = WaitRollout
		if w.signal.Metric != "" && r.a.d.Fresh != nil {
			ev.Evidence, ev.Signal = WaitRolloutAndSamples, samplesOf(w.signal.Metric)
		}
	}
	r.emit(ev)
}

// settling names the writes that settle: "the scale of ai-data-labs/backend",
// "the memory raise of … and the scale of …", "3 changes".
func (r *run) settling() string {
	nouns := map[tools.Name]string{tools.ScaleDeployment: "the scale", tools.RestartPods: "the restart", tools.UpdateResources: "the memory raise",
		tools.DropPartitions: "the partition drop", tools.ExpandVolume: "the volume expansion"}
	var parts []string
	for _, o := range r.outcomes {
		if !o.Wrote() {
			continue
		}
		n, ok := nouns[o.Tool]
		if !ok {
			n = "the change"
		}
		if o.Target != "" {
			n += " of " + o.Target
		}
		parts = append(parts, n)
	}
	switch len(parts) {
	case 0:
		return "the change"
	case 1, 2:
		return strings.Join(parts, " and ")
	}
	return fmt.Sprintf("%d changes", len(parts))
}

// targetFromWrites picks what to verify in a conversation turn whose request
// named no alert: the first workload or table that was changed.
func (r *run) targetFromWrites() {
	if r.ref.Name != "" && r.al.Kind != alert.KindUnknown {
		return
	}
	kinds := map[tools.Name]alert.Kind{tools.ScaleDeployment: alert.KindCPU, tools.RestartPods: alert.KindHealth,
		tools.UpdateResources: alert.KindMemory, tools.DropPartitions: alert.KindDisk}
	for _, o := range r.outcomes {
		k, ok := kinds[o.Tool]
		if !ok || !o.Wrote() {
			continue
		}
		if r.al.Kind != k {
			r.before = signal{name: string(k), text: "not measured"}
		}
		r.al.Kind = k
		if ns, name, found := strings.Cut(o.Target, "/"); found {
			r.ref = platform.WorkloadRef{Namespace: ns, Name: name}
			r.al.Service, r.al.Namespace = name, ns
		}
		return
	}
}

func compare(before, after signal) platform.VerifyResult {
	switch {
	case !after.known:
		return platform.VerifyUnknown
	case after.ok:
		return platform.VerifyResolved
	case before.known && after.lower && after.value > before.value*1.05+0.5:
		return platform.VerifyWorse
	case before.known && !after.lower && after.value < before.value:
		return platform.VerifyWorse
	}
	return platform.VerifyUnresolved
}

func verifyDetail(v Verified, wrote bool) string {
	switch {
	case !wrote && v.Result == platform.VerifyResolved:
		return "no change was needed: " + v.After
	case !wrote:
		return "nothing was changed and the problem remains: " + v.After
	case v.Result == platform.VerifyResolved && v.Waited == 0:
		return fmt.Sprintf("%s now: %s (was %s)", v.Signal, v.After, v.Before) // it showed at once
	case v.Result == platform.VerifyResolved:
		return fmt.Sprintf("%s after %s: %s (was %s)", v.Signal, v.Waited, v.After, v.Before)
	}
	return fmt.Sprintf("%s still bad after %s: %s (was %s)", v.Signal, v.Waited, v.After, v.Before)
}
