package alert

import (
	"net/url"
	"strings"
)

// database is the subject of a database alert: the database's own address
// where a series carries it, else the exporter's scrape target (a sidecar
// exporter's pod is the database's pod), else the workload labels.
func (s subjectReader) database() candidate {
	for _, label := range []string{"server", "hostname"} { // postgres_exporter's DSN host; the ClickHouse operator's host
		if c, ok := s.address(label, s.labels[label]); ok {
			return c
		}
	}
	if c, ok := s.address("instance", urlHost(s.labels["instance"])); ok { // redis_exporter's multi-target mode
		return c
	}
	for _, o := range workloadObjects { // a rule may add them
		if c := s.object(o); c.found() {
			return c
		}
	}
	if c := s.object(podObject); c.found() {
		return c
	}
	if c := s.target(); c.found() {
		return c
	}
	return s.application()
}

// address reads a host[:port] label as a cluster address; the namespace of
// a short name is the series'.
func (s subjectReader) address(label, value string) (candidate, bool) {
	if value == "" {
		return candidate{}, false
	}
	a, ok := parseClusterHost(hostOf(value))
	if !ok {
		return candidate{}, false
	}
	c := a.subjectOf(label)
	if c.namespace == "" {
		c.namespace, c.nsLabel = s.series("namespace")
	}
	return c, true
}

// urlHost is the host[:port] of an instance written as a URL
// ("redis://redis.shop.svc:6379"), empty for a plain address.
func urlHost(instance string) string {
	if !strings.Contains(instance, "://") {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(instance))
	if err != nil {
		return ""
	}
	return u.Host
}

// application is the subject of an application alert: mesh and ingress
// labels first, then workload labels. The labels of an exporter's scrape
// target (its service, job, container, instance) are never a subject.
func (s subjectReader) application() candidate {
	if c, ok := s.istio(); ok {
		return c
	}
	if c, ok := s.ingressNginx(); ok {
		return c
	}
	if c, ok := s.traefik(); ok {
		return c
	}
	for _, o := range workloadObjects {
		if c := s.object(o); c.found() {
			return c
		}
	}
	for _, label := range []string{"app_kubernetes_io_name", "app"} {
		if c := s.workload(label); c.found() {
			return c
		}
	}
	if !s.fromExporter() {
		if c := s.workload("service"); c.found() {
			return c
		}
	}
	if c := s.object(podObject); c.found() && !s.exporterPod() {
		return c
	}
	return candidate{}
}

// workload reads a label that names a workload of unknown kind.
func (s subjectReader) workload(label string) candidate {
	name, nameLabel := s.series(label)
	ns, nsLabel := s.series("namespace")
	return candidate{kind: SubjectWorkload, name: name, nameLabel: nameLabel, namespace: ns, nsLabel: nsLabel}
}

// istioUnnamed are values Istio writes where it knows no workload or Service.
var istioUnnamed = map[string]bool{"unknown": true, "PassthroughCluster": true, "BlackHoleCluster": true, "InboundPassthroughClusterIpv4": true}

// istio reads Istio's standard metric labels: the destination workload, its
// canonical service (the workload's app name), or the destination Service.
func (s subjectReader) istio() (candidate, bool) {
	l := s.labels
	ns, nsLabel := l["destination_workload_namespace"], "destination_workload_namespace"
	if ns == "" {
		ns, nsLabel = l["destination_service_namespace"], "destination_service_namespace"
	}
	for _, label := range []string{"destination_workload", "destination_canonical_service"} {
		if v := l[label]; v != "" && !istioUnnamed[v] {
			return candidate{kind: SubjectWorkload, name: v, nameLabel: label, namespace: ns, nsLabel: nsLabel}, true
		}
	}
	if v := l["destination_service_name"]; v != "" && !istioUnnamed[v] {
		return candidate{kind: SubjectService, name: v, nameLabel: "destination_service_name",
			namespace: l["destination_service_namespace"], nsLabel: "destination_service_namespace"}, true
	}
	return candidate{}, false
}

// ingressNginx reads ingress-nginx's request metrics, which name the
// Ingress' namespace, the Ingress and its backend Service; scraped without
// honorLabels they arrive as exported_namespace and exported_service.
func (s subjectReader) ingressNginx() (candidate, bool) {
	if (s.labels["ingress"] == "" && s.labels["controller_class"] == "") || s.fromExporter() {
		return candidate{}, false // kube-state-metrics' kube_ingress_* carry ingress too, and its own service
	}
	name, nameLabel := s.series("service")
	if name == "" {
		return candidate{}, false
	}
	ns, nsLabel := s.series("namespace")
	return candidate{kind: SubjectService, name: name, nameLabel: nameLabel, namespace: ns, nsLabel: nsLabel}, true
}

// traefik reads a Traefik service name. Its Kubernetes providers name a
// router's service "<namespace>-<service>-<port>@kubernetes" (Ingress) or
// "@kubernetescrd" (IngressRoute); another provider's service (@file,
// @internal) is no Kubernetes object, and the alert names none.
func (s subjectReader) traefik() (candidate, bool) {
	value, label := s.series("service")
	base, provider, ok := strings.Cut(value, "@")
	if !ok {
		return candidate{}, false
	}
	if provider != "kubernetes" && provider != "kubernetescrd" {
		return candidate{}, true
	}
	ns, name := splitTraefik(base, s.knownNamespaces())
	if name == "" {
		return candidate{}, true
	}
	return candidate{kind: SubjectService, name: name, nameLabel: label, namespace: ns, nsLabel: label}, true
}

// knownNamespaces are the namespaces a Traefik name may start with: the
// series', and the parser's.
func (s subjectReader) knownNamespaces() []string {
	var out []string
	for _, ns := range []string{s.labels["exported_namespace"], s.labels["namespace"], s.namespace} {
		if ns != "" {
			out = append(out, ns)
		}
	}
	return out
}

// splitTraefik splits "<namespace>-<service>-<port>": both names may hold
// dashes, so a known namespace that prefixes it wins (the longest); without
// one, the namespace is the first word.
func splitTraefik(base string, namespaces []string) (ns, name string) {
	best := ""
	for _, n := range namespaces {
		if rest := strings.TrimPrefix(base, n+"-"); rest != base && strings.Contains(rest, "-") && len(n) > len(best) {
			best = n
		}
	}
	rest := ""
	if best != "" {
		ns, rest = best, base[len(best)+1:]
	} else if first, after, ok := strings.Cut(base, "-"); ok {
		ns, rest = first, after
	}
	if i := strings.LastIndex(rest, "-"); i > 0 {
		return ns, rest[:i]
	}
	return "", ""
}
