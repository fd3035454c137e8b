package alert

import (
	"errors"
	"strings"
	"testing"
)

// ksmStack are the labels kube-prometheus-stack's scrape of
// kube-state-metrics adds to a series without pod or container of its own.
var ksmStack = map[string]string{"container": "kube-state-metrics", "endpoint": "http", "instance": "10.244.0.15:8080",
	"job": "kube-state-metrics", "namespace": "monitoring", "pod": "kube-prometheus-stack-kube-state-metrics-6b9f8d7c5d-q2w7x",
	"service": "kube-prometheus-stack-kube-state-metrics"}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func ref(kind SubjectKind, ns, name string) SubjectRef {
	return SubjectRef{Kind: kind, Namespace: ns, Name: name}
}

func TestClassifyNamesTheSubjectNotTheScrapeTarget(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   SubjectRef
		action Action
	}{
		{"crash loop names the pod, not kube-state-metrics",
			with(ksmStack, "alertname", "KubePodCrashLooping", "namespace", "shop", "pod", "clickhouse-0", "container", "clickhouse"),
			ref(SubjectPod, "shop", "clickhouse-0"), ActionPlaybook},
		{"a deployment alert keeps the exporter's pod label: the deployment wins",
			with(ksmStack, "alertname", "KubeDeploymentReplicasMismatch", "namespace", "shop", "deployment", "backend"),
			ref(SubjectDeployment, "shop", "backend"), ActionDiagnose},
		{"honorLabels off: exported_namespace and exported_pod are the object's",
			with(ksmStack, "alertname", "KubePodCrashLooping", "exported_namespace", "shop", "exported_pod", "redis-0"),
			ref(SubjectPod, "shop", "redis-0"), ActionPlaybook},
		{"HPA maxed out names the HPA and never scales", with(ksmStack, "alertname", "KubeHpaMaxedOut", "namespace", "shop", "horizontalpodautoscaler", "backend"),
			ref(SubjectHPA, "shop", "backend"), ActionDiagnose},
		{"job failed names job_name, not the scrape job", with(ksmStack, "alertname", "KubeJobFailed", "namespace", "shop", "job_name", "backup-1"),
			ref(SubjectJob, "shop", "backup-1"), ActionDiagnose},
		{"volume filling up names the claim", map[string]string{"alertname": "KubePersistentVolumeFillingUp", "job": "kubelet", "service": "kubelet",
			"namespace": "shop", "persistentvolumeclaim": "data-clickhouse-0", "node": "worker-1"},
			ref(SubjectPVC, "shop", "data-clickhouse-0"), ActionPlaybook},
		{"quota names the namespace", map[string]string{"alertname": "KubeQuotaExceeded", "namespace": "shop", "resourcequota": "q"},
			ref(SubjectNamespace, "", "shop"), ActionDiagnose},
		{"node-exporter: the instance without its port", map[string]string{"alertname": "NodeFilesystemAlmostOutOfSpace", "instance": "worker-1:9100",
			"namespace": "monitoring", "pod": "node-exporter-abcde", "service": "node-exporter", "job": "node-exporter"},
			ref(SubjectNode, "", "worker-1"), ActionDiagnose},
		{"node-exporter scraped at an IPv6 address", map[string]string{"alertname": "NodeCPUHighUsage", "instance": "[fd00::12]:9100"},
			ref(SubjectNode, "", "fd00::12"), ActionDiagnose},
		{"the node label wins over the kubelet's instance", map[string]string{"alertname": "KubeletTooManyPods", "instance": "10.0.0.11:10250", "node": "worker-1"},
			ref(SubjectNode, "", "worker-1"), ActionDiagnose},
		{"Watchdog is nothing to do", map[string]string{"alertname": "Watchdog", "severity": "none"}, SubjectRef{}, ActionNoOp},
		{"InfoInhibitor is nothing to do, whatever its namespace", map[string]string{"alertname": "InfoInhibitor", "namespace": "shop"}, SubjectRef{}, ActionNoOp},
		{"TargetDown names the target's Service", map[string]string{"alertname": "TargetDown", "job": "backend", "namespace": "shop", "service": "backend"},
			ref(SubjectService, "shop", "backend"), ActionDiagnose},
		{"a playbook without a subject is a diagnosis", map[string]string{"alertname": "IstioHigh5xxErrorRate"}, SubjectRef{}, ActionDiagnose},
		{"a sidecar exporter's pod is the database's", map[string]string{"alertname": "PostgreSQLDown", "container": "metrics", "job": "postgresql-metrics",
			"namespace": "shop", "pod": "postgresql-0", "service": "postgresql-metrics"}, ref(SubjectPod, "shop", "postgresql-0"), ActionPlaybook},
		{"postgres_exporter's server names the database Service", map[string]string{"alertname": "PostgreSQLHighConnections", "job": "pg", "server": "postgresql.shop.svc.cluster.local:5432"},
			ref(SubjectService, "shop", "postgresql"), ActionDiagnose},
		{"a loopback server says nothing", map[string]string{"alertname": "PostgreSQLHighConnections", "server": "127.0.0.1:5432", "instance": "10.0.0.1:9187"},
			SubjectRef{}, ActionDiagnose},
		{"a headless Service address names the pod", map[string]string{"alertname": "RedisDown", "instance": "redis://redis-master-0.redis-headless.shop.svc.cluster.local:6379"},
			ref(SubjectPod, "shop", "redis-master-0"), ActionPlaybook},
		{"the ClickHouse operator's hostname and exported_namespace", map[string]string{"alertname": "ClickHouseDiskUsage", "namespace": "kube-system",
			"exported_namespace": "shop", "hostname": "chi-events-main-0-0.shop.svc.cluster.local", "chi": "events"},
			ref(SubjectService, "shop", "chi-events-main-0-0"), ActionPlaybook},
		{"a rule's statefulset label when the database names no host", map[string]string{"alertname": "ClickHouseDiskUsage", "statefulset": "clickhouse", "namespace": "analytics"},
			ref(SubjectStatefulSet, "analytics", "clickhouse"), ActionPlaybook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := specParser().Classify(tt.labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.want || c.Action != tt.action || !c.Known {
				t.Errorf("subject %s action %s known %v, want %s %s", c.Subject, c.Action, c.Known, tt.want, tt.action)
			}
		})
	}
}

func TestClassifyReadsIngressAndMeshLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   SubjectRef
	}{
		{"Traefik ingress service", map[string]string{"service": "ai-data-labs-backend-8080@kubernetes"}, ref(SubjectService, "ai-data-labs", "backend")},
		{"Traefik IngressRoute with a named port", map[string]string{"service": "shop-web-frontend-http@kubernetescrd"}, ref(SubjectService, "shop", "web-frontend")},
		{"Traefik service renamed by the scrape", map[string]string{"service": "traefik", "namespace": "traefik", "exported_service": "ai-data-labs-frontend-80@kubernetes"},
			ref(SubjectService, "ai-data-labs", "frontend")},
		{"a known namespace with dashes wins over the first word", map[string]string{"service": "ai-data-labs-redis-commander-8081@kubernetes"},
			ref(SubjectService, "ai-data-labs", "redis-commander")},
		{"Traefik's internal service is no Kubernetes object", map[string]string{"service": "api@internal"}, SubjectRef{}},
		{"Istio destination workload", map[string]string{"destination_workload": "backend", "destination_workload_namespace": "shop",
			"destination_service_name": "backend-svc", "pod": "frontend-x"}, ref(SubjectWorkload, "shop", "backend")},
		{"Istio canonical service", map[string]string{"destination_canonical_service": "backend", "destination_workload_namespace": "shop"},
			ref(SubjectWorkload, "shop", "backend")},
		{"Istio unknown destination falls to the Service", map[string]string{"destination_workload": "unknown", "destination_canonical_service": "unknown",
			"destination_service_name": "backend", "destination_service_namespace": "shop"}, ref(SubjectService, "shop", "backend")},
		{"ingress-nginx scraped without honorLabels", map[string]string{"ingress": "web", "controller_class": "k8s.io/ingress-nginx",
			"exported_service": "frontend", "exported_namespace": "shop", "service": "ingress-nginx-controller-metrics", "namespace": "ingress-nginx"},
			ref(SubjectService, "shop", "frontend")},
		{"ingress-nginx with honorLabels", map[string]string{"ingress": "web", "service": "frontend", "namespace": "shop"}, ref(SubjectService, "shop", "frontend")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := specParser().Classify(with(tt.labels, "alertname", "TraefikHighHttp5xxErrorRateService"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.want {
				t.Errorf("subject %s, want %s", c.Subject, tt.want)
			}
		})
	}
}

func TestClassifyUnknownAlertsByKeywords(t *testing.T) {
	tests := []struct {
		name    string
		labels  map[string]string
		ann     map[string]string
		kind    Kind
		subject SubjectRef
		action  Action
	}{
		{"application alert with a service label", map[string]string{"alertname": "BackendHighCPU", "service": "backend"}, nil,
			KindCPU, ref(SubjectWorkload, "ai-data-labs", "backend"), ActionPlaybook},
		{"the text names a service of the platform", map[string]string{"alertname": "DiskFull"}, map[string]string{"summary": "Database disk usage at 85%"},
			KindDisk, ref(SubjectWorkload, "ai-data-labs", "clickhouse"), ActionPlaybook},
		{"a custom kube-state-metrics alert ignores the exporter's labels", with(ksmStack, "alertname", "MyReplicasLow", "namespace", "shop", "statefulset", "redis"), nil,
			KindUnknown, ref(SubjectStatefulSet, "shop", "redis"), ActionDiagnose},
		{"the exporter's own pod is no subject", with(ksmStack, "alertname", "NodesLow"), nil, KindUnknown, SubjectRef{}, ActionDiagnose},
		{"kube-state-metrics' ingress series are not ingress-nginx's", with(ksmStack, "alertname", "IngressPathMissing", "namespace", "shop", "ingress", "web"), nil,
			KindUnknown, SubjectRef{}, ActionDiagnose},
		{"scrape job and container are not workloads", map[string]string{"alertname": "QueueLag", "job": "redis_exporter_targets", "container": "exporter"}, nil,
			KindUnknown, SubjectRef{}, ActionDiagnose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := specParser().Classify(tt.labels, tt.ann)
			if err != nil {
				t.Fatal(err)
			}
			if c.Known || c.Family != FamilyUnknown || c.Kind != tt.kind || c.Subject != tt.subject || c.Action != tt.action {
				t.Errorf("got known %v family %q kind %s subject %s action %s, want kind %s subject %s action %s",
					c.Known, c.Family, c.Kind, c.Subject, c.Action, tt.kind, tt.subject, tt.action)
			}
		})
	}
}

func TestClassifyRejectsLabelsThatAreNotKubernetesNames(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		label  string
	}{
		{"upper case pod", map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "Clickhouse-0"}, `label "pod"`},
		{"namespace with a dot", map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop.prod", "pod": "c-0"}, `label "namespace"`},
		{"injection in a service label", map[string]string{"alertname": "BackendHighCPU", "service": "backend; rm -rf /"}, `label "service"`},
		{"a Service name must start with a letter", map[string]string{"alertname": "TargetDown", "namespace": "shop", "service": "1backend"}, `label "service"`},
		{"a Traefik service whose name part is invalid", map[string]string{"alertname": "TraefikServiceDown", "service": "shop-Back_end-80@kubernetes"}, `label "service"`},
		{"an exported label is named as such", map[string]string{"alertname": "KubePodNotReady", "exported_namespace": "Shop", "exported_pod": "x"}, `label "exported_namespace"`},
		{"an over-long node name", map[string]string{"alertname": "KubeNodeNotReady", "node": strings.Repeat("n", 254)}, `label "node"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := specParser().Classify(tt.labels, nil)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.label) || !strings.Contains(err.Error(), "Kubernetes") {
				t.Errorf("message %q does not name %s and why", err, tt.label)
			}
		})
	}
}

func TestParseWebhookRejectsAnInvalidSubjectBeforeAnything(t *testing.T) {
	w := Webhook{Version: "4", Alerts: []WebhookAlert{{Status: "firing",
		Labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "../../etc"}}}}
	_, err := specParser().ParseWebhook(w, testNow)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `label "pod"`) {
		t.Fatalf("err = %v, want ErrInvalid naming the pod label", err)
	}
}

func TestClassifyKeepsTheRunbook(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping", "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"},
		{"javascript:alert(1)", ""},
		{"not a url", ""},
		{"", ""},
	}
	for _, tt := range tests {
		c, err := Classify(map[string]string{"alertname": "Watchdog"}, map[string]string{"runbook_url": tt.url})
		if err != nil {
			t.Fatal(err)
		}
		if c.Runbook != tt.want {
			t.Errorf("runbook of %q = %q, want %q", tt.url, c.Runbook, tt.want)
		}
	}
}

func TestParseWebhookSetsServiceOnlyForWorkloads(t *testing.T) {
	tests := []struct {
		name      string
		labels    map[string]string
		service   string
		namespace string
	}{
		{"a deployment is the service", map[string]string{"alertname": "KubeDeploymentReplicasMismatch", "namespace": "shop", "deployment": "backend"}, "backend", "shop"},
		{"a pod waits for platform resolution", with(ksmStack, "alertname", "KubePodCrashLooping", "namespace", "shop", "pod", "clickhouse-0"), "", "shop"},
		{"a node keeps the parser's namespace", map[string]string{"alertname": "NodeCPUHighUsage", "instance": "worker-1:9100", "namespace": "monitoring"}, "", "ai-data-labs"},
		{"a known alert's text does not name a service", map[string]string{"alertname": "KubeCPUOvercommit"}, "", "ai-data-labs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := Webhook{Version: "4", Alerts: []WebhookAlert{{Status: "firing", Labels: tt.labels,
				Annotations: map[string]string{"summary": "clickhouse backend frontend"}}}}
			as, err := specParser().ParseWebhook(w, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if a := as[0]; a.Service != tt.service || a.Namespace != tt.namespace || a.Kind != a.Classification.Kind {
				t.Errorf("service/namespace/kind = %q/%q/%q, want %q/%q and the classification's kind %q", a.Service, a.Namespace, a.Kind, tt.service, tt.namespace, a.Classification.Kind)
			}
		})
	}
}
