package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Load is the demand on one workload, as a scenario file states it. Totals
// (CPU, requests) are spread over the workload's ready pods; per-pod values
// (memory) are what each running pod wants.
type Load struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// CPUCores is the workload's total CPU demand in cores, shared by its
	// ready pods: 3 ready pods of a 2.55-core demand use 0.85 each, 4 use 0.6375.
	CPUCores float64 `json:"cpu_cores"`
	// MemoryBytesPerPod is the working set each running pod wants. Above the
	// container's memory limit the pod is OOM-killed: its working set stays
	// at the limit and its restart count grows every OOMEvery.
	MemoryBytesPerPod float64 `json:"memory_bytes_per_pod"`
	// RequestsPerSecond is the total request rate, shared by the ready pods.
	RequestsPerSecond float64 `json:"requests_per_second"`
	// ErrorRatio is the share of requests answered 5xx (0..1).
	ErrorRatio float64 `json:"error_ratio"`
	// LatencySeconds is every request's duration.
	LatencySeconds float64 `json:"latency_seconds"`
	// DiskUsedBytes is what each of the workload's volume claims holds
	// (StatefulSets with volumeClaimTemplates), capped at the claim's capacity.
	DiskUsedBytes float64 `json:"disk_used_bytes"`
}

// Scenario is the load of every modelled workload. Only workloads it names
// get series: other tests' namespaces on the same cluster stay silent.
type Scenario struct {
	Workloads []Load `json:"workloads"`
}

func (l Load) validate() error {
	if l.Namespace == "" || l.Name == "" {
		return fmt.Errorf("a workload needs a namespace and a name")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"cpu_cores", l.CPUCores}, {"memory_bytes_per_pod", l.MemoryBytesPerPod}, {"requests_per_second", l.RequestsPerSecond},
		{"latency_seconds", l.LatencySeconds}, {"disk_used_bytes", l.DiskUsedBytes}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s/%s: %s must be a finite number at least 0", l.Namespace, l.Name, f.name)
		}
	}
	if l.ErrorRatio < 0 || l.ErrorRatio > 1 {
		return fmt.Errorf("%s/%s: error_ratio must be between 0 and 1", l.Namespace, l.Name)
	}
	return nil
}

func (s Scenario) validate() error {
	seen := map[string]bool{}
	for _, l := range s.Workloads {
		if err := l.validate(); err != nil {
			return err
		}
		k := l.Namespace + "/" + l.Name
		if seen[k] {
			return fmt.Errorf("%s is listed twice", k)
		}
		seen[k] = true
	}
	return nil
}

// Container is what the model needs of a pod's container.
type Container struct {
	Name                  string
	CPURequest, CPULimit  float64 // cores; 0: none
	MemRequest, MemLimit  float64 // bytes; 0: none
	Image                 string
	RestartsReportedByAPI int32
}

// Pod is a pod of a modelled workload, from the API server.
type Pod struct {
	Namespace, Name string
	Workload        string // the owning Deployment or StatefulSet
	OwnerKind       string // Deployment or StatefulSet
	Node            string
	Running, Ready  bool
	Containers      []Container
	Claims          []Claim // the StatefulSet's claims of this pod
}

// Claim is a volume claim mounted by a pod.
type Claim struct {
	Name          string
	CapacityBytes float64
}

// WorkloadState is a Deployment's or StatefulSet's own status.
type WorkloadState struct {
	Namespace, Name, Kind string
	SpecReplicas, Ready   int32
}

// Cluster is a snapshot of the API server's state.
type Cluster struct {
	Pods      []Pod
	Workloads []WorkloadState
}

// OOMEvery is how often a pod whose memory demand exceeds its limit is
// OOM-killed (its restart counter grows by one).
const OOMEvery = 10 * time.Second

var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Model integrates the load into per-pod counters over time and renders
// the Prometheus exposition. Safe for concurrent use.
type Model struct {
	mu       sync.Mutex
	scenario Scenario
	last     time.Time
	counters map[string]float64 // series key -> value
	oom      map[string]float64 // pod/container -> fraction of OOMEvery accumulated
}

// NewModel starts a model at now.
func NewModel(s Scenario, now time.Time) *Model {
	return &Model{scenario: s, last: now, counters: map[string]float64{}, oom: map[string]float64{}}
}

// Scenario returns the current scenario.
func (m *Model) Scenario() Scenario {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Scenario{Workloads: append([]Load(nil), m.scenario.Workloads...)}
}

// SetScenario replaces the scenario. Counters carry on from their values.
func (m *Model) SetScenario(c Cluster, s Scenario, now time.Time) error {
	if err := s.validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(c, now) // the old load up to now
	m.scenario = s
	return nil
}

// Upsert sets the load of one workload.
func (m *Model) Upsert(c Cluster, l Load, now time.Time) error {
	s := m.Scenario()
	replaced := false
	for i := range s.Workloads {
		if s.Workloads[i].Namespace == l.Namespace && s.Workloads[i].Name == l.Name {
			s.Workloads[i], replaced = l, true
		}
	}
	if !replaced {
		s.Workloads = append(s.Workloads, l)
	}
	return m.SetScenario(c, s, now)
}

// Remove drops one workload from the scenario; its series disappear.
func (m *Model) Remove(c Cluster, namespace, name string, now time.Time) error {
	s := m.Scenario()
	keep := s.Workloads[:0]
	for _, l := range s.Workloads {
		if l.Namespace != namespace || l.Name != name {
			keep = append(keep, l)
		}
	}
	s.Workloads = keep
	return m.SetScenario(c, s, now)
}

func (m *Model) load(namespace, name string) (Load, bool) {
	for _, l := range m.scenario.Workloads {
		if l.Namespace == namespace && l.Name == name {
			return l, true
		}
	}
	return Load{}, false
}

// readyCount counts the ready pods of each modelled workload.
func readyCount(pods []Pod) map[string]int {
	n := map[string]int{}
	for _, p := range pods {
		if p.Ready {
			n[p.Namespace+"/"+p.Workload]++
		}
	}
	return n
}

// advance integrates the counters from m.last to now with the cluster as it is.
func (m *Model) advance(c Cluster, now time.Time) {
	dt := now.Sub(m.last).Seconds()
	m.last = now
	if dt <= 0 {
		return
	}
	ready := readyCount(c.Pods)
	for _, p := range c.Pods {
		l, ok := m.load(p.Namespace, p.Workload)
		if !ok || !p.Running || len(p.Containers) == 0 {
			continue
		}
		pl := podLabels(p)
		if n := ready[p.Namespace+"/"+p.Workload]; p.Ready && n > 0 {
			c0 := p.Containers[0]
			m.counters[series("container_cpu_usage_seconds_total", ctrLabels(p, c0))] += l.CPUCores / float64(n) * dt
			reqs := l.RequestsPerSecond / float64(n) * dt
			m.counters[series("http_requests_total", pl+`,code="200"`)] += reqs * (1 - l.ErrorRatio)
			m.counters[series("http_requests_total", pl+`,code="500"`)] += reqs * l.ErrorRatio
			for _, le := range latencyBuckets {
				if l.LatencySeconds <= le {
					m.counters[series("http_request_duration_seconds_bucket", pl+`,le="`+fmtFloat(le)+`"`)] += reqs
				}
			}
			m.counters[series("http_request_duration_seconds_bucket", pl+`,le="+Inf"`)] += reqs
			m.counters[series("http_request_duration_seconds_sum", pl)] += reqs * l.LatencySeconds
			m.counters[series("http_request_duration_seconds_count", pl)] += reqs
		}
		for _, ct := range p.Containers {
			if ct.MemLimit > 0 && l.MemoryBytesPerPod > ct.MemLimit && ct.Name == p.Containers[0].Name {
				k := p.Namespace + "/" + p.Name + "/" + ct.Name
				m.oom[k] += dt / OOMEvery.Seconds()
				if m.oom[k] >= 1 {
					whole := math.Floor(m.oom[k])
					m.oom[k] -= whole
					m.counters[series("kube_pod_container_status_restarts_total", ctrLabels(p, ct))] += whole
				}
			}
		}
	}
}

// Render advances the model to now and writes the exposition text.
func (m *Model) Render(c Cluster, now time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(c, now)
	fam := families{}
	live := map[string]bool{}
	for _, p := range c.Pods {
		l, ok := m.load(p.Namespace, p.Workload)
		if !ok {
			continue
		}
		m.gauges(fam, live, p, l)
	}
	for _, w := range c.Workloads {
		if _, ok := m.load(w.Namespace, w.Name); !ok {
			continue
		}
		kind := strings.ToLower(w.Kind)
		ls := fmt.Sprintf(`namespace=%q,%s=%q`, w.Namespace, kind, w.Name)
		fam.add("kube_"+kind+"_spec_replicas", "gauge", ls, float64(w.SpecReplicas))
		fam.add("kube_"+kind+"_status_replicas_ready", "gauge", ls, float64(w.Ready))
	}
	// Counters of pods still present; a deleted pod's series end, as they do
	// when cAdvisor stops seeing the container.
	for k, v := range m.counters {
		if !live[podOf(k)] {
			delete(m.counters, k)
			continue
		}
		name, ls, _ := strings.Cut(k, "{")
		typ := "counter"
		if strings.HasPrefix(name, "http_request_duration_seconds") {
			typ = "histogram"
		}
		fam.add(name, typ, strings.TrimSuffix(ls, "}"), v)
	}
	return fam.text()
}

// gauges adds the gauges of one pod and marks it live.
func (m *Model) gauges(fam families, live map[string]bool, p Pod, l Load) {
	live[p.Namespace+"/"+p.Name] = true
	fam.add("kube_pod_info", "gauge", podLabels(p)+fmt.Sprintf(`,node=%q,created_by_kind=%q,created_by_name=%q`, p.Node, p.OwnerKind, p.Workload), 1)
	ready := 0.0
	if p.Ready {
		ready = 1
	}
	fam.add("kube_pod_status_ready", "gauge", podLabels(p)+`,condition="true"`, ready)
	for _, ct := range p.Containers {
		cl := ctrLabels(p, ct)
		for _, r := range []struct {
			name, resource, unit string
			req, lim             float64
		}{{"cpu", "cpu", "core", ct.CPURequest, ct.CPULimit}, {"memory", "memory", "byte", ct.MemRequest, ct.MemLimit}} {
			if r.req > 0 {
				fam.add("kube_pod_container_resource_requests", "gauge", cl+fmt.Sprintf(`,resource=%q,unit=%q`, r.resource, r.unit), r.req)
			}
			if r.lim > 0 {
				fam.add("kube_pod_container_resource_limits", "gauge", cl+fmt.Sprintf(`,resource=%q,unit=%q`, r.resource, r.unit), r.lim)
			}
		}
		k := series("kube_pod_container_status_restarts_total", cl)
		if _, ok := m.counters[k]; !ok {
			m.counters[k] = 0
		}
		if !p.Running {
			continue
		}
		ws := 0.0
		if ct.Name == p.Containers[0].Name {
			ws = l.MemoryBytesPerPod
			if ct.MemLimit > 0 && ws > ct.MemLimit {
				ws = ct.MemLimit // the kernel kills it at its limit
			}
		}
		fam.add("container_memory_working_set_bytes", "gauge", cl+fmt.Sprintf(`,image=%q`, ct.Image), ws)
		if ct.Name == p.Containers[0].Name && ct.MemLimit > 0 && l.MemoryBytesPerPod > ct.MemLimit {
			fam.add("kube_pod_container_status_last_terminated_reason", "gauge", cl+`,reason="OOMKilled"`, 1)
		}
		ck := series("container_cpu_usage_seconds_total", cl)
		if _, ok := m.counters[ck]; !ok {
			m.counters[ck] = 0
		}
	}
	if !p.Running {
		return
	}
	// Every series a scrape of the pod shows exists from its start, at 0.
	pl := podLabels(p)
	keys := []string{series("http_requests_total", pl+`,code="200"`), series("http_requests_total", pl+`,code="500"`),
		series("http_request_duration_seconds_bucket", pl+`,le="+Inf"`), series("http_request_duration_seconds_sum", pl),
		series("http_request_duration_seconds_count", pl)}
	for _, le := range latencyBuckets {
		keys = append(keys, series("http_request_duration_seconds_bucket", pl+`,le="`+fmtFloat(le)+`"`))
	}
	for _, k := range keys {
		if _, ok := m.counters[k]; !ok {
			m.counters[k] = 0
		}
	}
	for _, c := range p.Claims {
		used := math.Min(l.DiskUsedBytes, c.CapacityBytes)
		ls := fmt.Sprintf(`namespace=%q,persistentvolumeclaim=%q`, p.Namespace, c.Name)
		fam.add("kubelet_volume_stats_capacity_bytes", "gauge", ls, c.CapacityBytes)
		fam.add("kubelet_volume_stats_used_bytes", "gauge", ls, used)
		fam.add("kubelet_volume_stats_available_bytes", "gauge", ls, c.CapacityBytes-used)
	}
}

func podLabels(p Pod) string { return fmt.Sprintf(`namespace=%q,pod=%q`, p.Namespace, p.Name) }

func ctrLabels(p Pod, c Container) string { return podLabels(p) + fmt.Sprintf(`,container=%q`, c.Name) }

func series(name, labels string) string { return name + "{" + labels + "}" }

// podOf returns "namespace/pod" of a series key.
func podOf(key string) string {
	ns := labelValue(key, "namespace")
	return ns + "/" + labelValue(key, "pod")
}

func labelValue(key, label string) string {
	i := strings.Index(key, label+`="`)
	if i < 0 {
		return ""
	}
	rest := key[i+len(label)+2:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// families collects samples by metric family for the text format.
type families map[string]*family

type family struct {
	typ   string
	lines []string
}

// add records one sample; histogram parts group under the family's base name.
func (f families) add(name, typ, labels string, v float64) {
	base := name
	if typ == "histogram" {
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, s)
		}
	}
	fm := f[base]
	if fm == nil {
		fm = &family{typ: typ}
		f[base] = fm
	}
	fm.lines = append(fm.lines, name+"{"+labels+"} "+fmtFloat(v))
}

func (f families) text() string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fm := f[n]
		sort.Strings(fm.lines)
		fmt.Fprintf(&b, "# TYPE %s %s\n", n, fm.typ)
		for _, l := range fm.lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// OOM is a container the model OOM-kills, with its restart count so far.
type OOM struct {
	Namespace, Pod, Container string
	Restarts                  int32
}

// OOMKilled advances the model to now and lists the running containers whose
// memory demand is over their limit, with the restarts the model counted.
func (m *Model) OOMKilled(c Cluster, now time.Time) []OOM {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(c, now)
	var out []OOM
	for _, p := range c.Pods {
		l, ok := m.load(p.Namespace, p.Workload)
		if !ok || !p.Running || len(p.Containers) == 0 {
			continue
		}
		ct := p.Containers[0]
		if ct.MemLimit <= 0 || l.MemoryBytesPerPod <= ct.MemLimit {
			continue
		}
		n := m.counters[series("kube_pod_container_status_restarts_total", ctrLabels(p, ct))]
		if n >= 1 {
			out = append(out, OOM{Namespace: p.Namespace, Pod: p.Name, Container: ct.Name, Restarts: int32(n)})
		}
	}
	return out
}
