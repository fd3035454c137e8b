package alert

import (
	"fmt"
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// checkName rejects a subject name that Kubernetes would not accept for an
// object of the kind: a Service is a DNS-1035 label, a namespace a DNS-1123
// label, the rest DNS-1123 subdomains; a node may also be named by the IP
// address node-exporter was scraped at.
func checkName(kind SubjectKind, name, label string) error {
	var errs []string
	what := "object"
	switch kind {
	case SubjectService:
		what, errs = "Service", validation.IsDNS1035Label(name)
	case SubjectNamespace:
		what, errs = "namespace", validation.IsDNS1123Label(name)
	case SubjectNode:
		if net.ParseIP(name) != nil {
			return nil
		}
		what, errs = "node", validation.IsDNS1123Subdomain(name)
	default:
		what, errs = string(kind), validation.IsDNS1123Subdomain(name)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s = %q is not a Kubernetes %s name: %s", ErrInvalid, describeLabel(label), name, what, strings.Join(errs, "; "))
}

// checkNamespace rejects a namespace that is not a DNS-1123 label.
func checkNamespace(ns, label string) error {
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return fmt.Errorf("%w: %s = %q is not a Kubernetes namespace name: %s", ErrInvalid, describeLabel(label), ns, strings.Join(errs, "; "))
	}
	return nil
}

// hostOf is an instance without its port: "worker-1:9100" is "worker-1",
// "[fd00::1]:9100" is "fd00::1", "worker-1" stays.
func hostOf(instance string) string {
	instance = strings.TrimSpace(instance)
	if host, _, err := net.SplitHostPort(instance); err == nil {
		return host
	}
	return strings.Trim(instance, "[]")
}

// clusterAddress is what a host name says inside a cluster: "<svc>",
// "<svc>.<ns>", "<svc>.<ns>.svc[.<cluster domain>]" or, through a headless
// Service, "<pod>.<svc>.<ns>.svc[...]". IP addresses, localhost and names
// outside the cluster say nothing.
type clusterAddress struct {
	pod, service, namespace string
}

func parseClusterHost(host string) (clusterAddress, bool) {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if host == "" || host == "localhost" || net.ParseIP(host) != nil {
		return clusterAddress{}, false
	}
	parts := strings.Split(host, ".")
	for i, p := range parts {
		if p != "svc" || i < 2 {
			continue
		}
		a := clusterAddress{service: parts[i-2], namespace: parts[i-1]}
		if i >= 3 {
			a.pod = parts[i-3]
		}
		return a, i <= 3
	}
	switch len(parts) {
	case 1:
		return clusterAddress{service: parts[0]}, true
	case 2:
		return clusterAddress{service: parts[0], namespace: parts[1]}, true
	}
	return clusterAddress{}, false
}

// subjectOf is the subject a cluster address names: the pod behind a
// headless Service, else the Service.
func (a clusterAddress) subjectOf(label string) candidate {
	if a.pod != "" {
		return candidate{kind: SubjectPod, name: a.pod, nameLabel: label, namespace: a.namespace, nsLabel: label}
	}
	return candidate{kind: SubjectService, name: a.service, nameLabel: label, namespace: a.namespace, nsLabel: label}
}
