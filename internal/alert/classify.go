package alert

import (
	"fmt"
	"net/url"
	"strings"
)

// Classify reads what an alert's name, labels and annotations say: its rule
// family, kind, subject and what the rules planner does with it — by the
// table first (Lookup), keywords last (DetectKind, Known false). A label that
// names the subject must hold a Kubernetes name; one that does not is
// rejected (ErrInvalid) before anything reads the platform.
func Classify(labels, annotations map[string]string) (Classification, error) {
	return Parser{}.Classify(labels, annotations)
}

// Classify is Classify with what the parser knows: its namespace, for a
// subject whose labels give none, and its services, for an unknown alert
// whose labels name nothing but whose text does.
func (p Parser) Classify(labels, annotations map[string]string) (Classification, error) {
	name := strings.TrimSpace(labels["alertname"])
	c := Classification{Alertname: name, Runbook: runbookOf(annotations)}
	r, known := Lookup(name)
	if known {
		c.Family, c.Kind, c.Known = r.Family, r.Kind, true
	} else {
		r.Subject = FromApplication
		c.Kind = DetectKind(strings.ToLower(SplitCamel(name) + " " + alertText(annotations)))
	}
	s := subjectReader{labels: labels, namespace: p.Namespace}
	subject, err := s.read(r.Subject)
	if err != nil {
		return Classification{}, err
	}
	if subject.Kind == SubjectNone && !known {
		if svc := p.findService(strings.ToLower(alertText(annotations))); svc != "" && p.Namespace != "" {
			subject = SubjectRef{Kind: SubjectWorkload, Namespace: p.Namespace, Name: svc}
		}
	}
	c.Subject = subject
	c.Action = actionOf(r, known, c)
	return c, nil
}

// actionOf is the rule's action, except that a playbook needs a subject to
// act on, and an unknown alert gets a playbook only for a kind that has one.
func actionOf(r Rule, known bool, c Classification) Action {
	action := r.Action
	if !known {
		action = ActionPlaybook
		if !c.Kind.HasPlaybook() {
			action = ActionDiagnose
		}
	}
	if action == ActionPlaybook && c.Subject.Kind == SubjectNone {
		return ActionDiagnose
	}
	return action
}

// alertText is the text an alert states: summary, description or message.
func alertText(annotations map[string]string) string {
	return firstOf(annotations, "summary", "description", "message")
}

// runbookOf is the runbook_url annotation when it is an http(s) URL.
func runbookOf(annotations map[string]string) string {
	raw := strings.TrimSpace(annotations["runbook_url"])
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return raw
}

// subjectReader reads a subject from an alert's labels.
type subjectReader struct {
	labels    map[string]string
	namespace string // the parser's, for a subject whose labels give none
}

// candidate is a subject as found, with the labels it came from, so that a
// value that is not a Kubernetes name is rejected by the label's name.
type candidate struct {
	kind               SubjectKind
	name, namespace    string
	nameLabel, nsLabel string
}

func (c candidate) found() bool { return c.kind != SubjectNone && c.name != "" }

// read finds the subject of a rule: its own labels first, then the object
// and workload labels an alert may carry.
func (s subjectReader) read(from SubjectFrom) (SubjectRef, error) {
	c := s.primary(from)
	if !c.found() && from != FromNone && from != FromDatabase && from != FromApplication {
		c = s.fallback()
	}
	if !c.found() {
		return SubjectRef{}, nil
	}
	if c.namespace == "" && !c.kind.ClusterScoped() {
		c.namespace, c.nsLabel = s.namespace, ""
	}
	return c.validate()
}

func (s subjectReader) primary(from SubjectFrom) candidate {
	switch from {
	case FromNone:
		return candidate{}
	case FromNamespace:
		ns, label := s.series("namespace")
		return candidate{kind: SubjectNamespace, name: ns, nameLabel: label}
	case FromNode:
		return s.node()
	case FromTarget:
		return s.target()
	case FromDatabase:
		return s.database()
	case FromApplication:
		return s.application()
	}
	for _, o := range objectLabels {
		if o.from == from {
			return s.object(o)
		}
	}
	return candidate{}
}

// fallback looks for any object label, then for the labels of a workload.
func (s subjectReader) fallback() candidate {
	for _, o := range objectLabels {
		if c := s.object(o); c.found() && !(o.kind == SubjectPod && s.exporterPod()) {
			return c
		}
	}
	return s.application()
}

// series is a label of the series itself: exported_<name> where the scrape
// renamed it because the target had a label of that name (honorLabels off),
// else <name>.
func (s subjectReader) series(name string) (string, string) {
	if v := strings.TrimSpace(s.labels["exported_"+name]); v != "" {
		return v, "exported_" + name
	}
	return strings.TrimSpace(s.labels[name]), name
}

// object reads an object label of kube-state-metrics or the kubelet, with
// the object's namespace.
func (s subjectReader) object(o objectLabel) candidate {
	name, nameLabel := s.series(o.label)
	c := candidate{kind: o.kind, name: name, nameLabel: nameLabel}
	if !o.kind.ClusterScoped() {
		c.namespace, c.nsLabel = s.series("namespace")
	}
	return c
}

// node is the node label, else the instance without its port.
func (s subjectReader) node() candidate {
	if name, label := s.series("node"); name != "" {
		return candidate{kind: SubjectNode, name: name, nameLabel: label}
	}
	return candidate{kind: SubjectNode, name: hostOf(s.labels["instance"]), nameLabel: "instance"}
}

// target is the scrape target's Service, as TargetDown aggregates it.
func (s subjectReader) target() candidate {
	return candidate{kind: SubjectService, name: strings.TrimSpace(s.labels["service"]), nameLabel: "service",
		namespace: strings.TrimSpace(s.labels["namespace"]), nsLabel: "namespace"}
}

// exporterJobs are the scrape jobs of exporters whose series describe other
// objects: their service, job, instance, endpoint and container labels are
// the exporter's, never an alert's subject.
var exporterJobs = map[string]bool{
	"kube-state-metrics": true, "kubelet": true, "node-exporter": true, "apiserver": true, "coredns": true,
	"kube-dns": true, "kube-proxy": true, "kube-scheduler": true, "kube-controller-manager": true, "kube-etcd": true,
}

// exporterContainers are the containers such exporters are scraped through
// (kube-prometheus scrapes through kube-rbac-proxy sidecars).
var exporterContainers = map[string]bool{
	"kube-state-metrics": true, "kube-rbac-proxy-main": true, "kube-rbac-proxy": true, "node-exporter": true,
}

// fromExporter reports a series scraped from such an exporter.
func (s subjectReader) fromExporter() bool {
	return exporterJobs[s.labels["job"]] || exporterContainers[s.labels["container"]]
}

// exporterPod reports a pod label that is the exporter's own pod: with
// kube-prometheus-stack (honorLabels) a series without a pod label of its own
// keeps the target's, named after the exporter's Service.
func (s subjectReader) exporterPod() bool {
	svc := s.labels["service"]
	return s.fromExporter() && svc != "" && strings.HasPrefix(s.labels["pod"], svc+"-")
}

// validate checks the names against the rules of Kubernetes.
func (c candidate) validate() (SubjectRef, error) {
	if err := checkName(c.kind, c.name, c.nameLabel); err != nil {
		return SubjectRef{}, err
	}
	if c.namespace != "" {
		if err := checkNamespace(c.namespace, c.nsLabel); err != nil {
			return SubjectRef{}, err
		}
	}
	return SubjectRef{Kind: c.kind, Namespace: c.namespace, Name: c.name}, nil
}

// describeLabel names where a value came from in an error.
func describeLabel(label string) string {
	if label == "" {
		return "the default namespace"
	}
	return fmt.Sprintf("label %q", label)
}
