package alert

// SubjectKind is the kind of object an alert is about, as its labels name it
// — not the scrape target that exported the series (kube-state-metrics, the
// kubelet, an exporter pod).
type SubjectKind string

// Subject kinds.
const (
	SubjectNone        SubjectKind = ""            // the alert names no object (Watchdog, a cluster-wide alert)
	SubjectWorkload    SubjectKind = "workload"    // a workload by name, kind unknown (app, service labels of an application)
	SubjectPod         SubjectKind = "pod"         // resolved to its controller through ownerReferences
	SubjectDeployment  SubjectKind = "deployment"  //
	SubjectStatefulSet SubjectKind = "statefulset" //
	SubjectDaemonSet   SubjectKind = "daemonset"   //
	SubjectJob         SubjectKind = "job"         // a Job (label job_name on kube-state-metrics alerts)
	SubjectPVC         SubjectKind = "pvc"         // resolved to the pods that mount it and their owner
	SubjectHPA         SubjectKind = "hpa"         // resolved to its scaleTargetRef
	SubjectNode        SubjectKind = "node"        // node or instance of a node-exporter alert
	SubjectService     SubjectKind = "service"     // a Kubernetes Service (ingress, mesh labels), resolved to its workload
	SubjectNamespace   SubjectKind = "namespace"   // a namespace-wide alert (quota)
	SubjectCronJob     SubjectKind = "cronjob"     // a CronJob (label cronjob), resolved to its latest Job
	SubjectReplicaSet  SubjectKind = "replicaset"  // a ReplicaSet (label replicaset), resolved to its Deployment
	SubjectPDB         SubjectKind = "pdb"         // a PodDisruptionBudget (label poddisruptionbudget), resolved by its selector
	SubjectPV          SubjectKind = "pv"          // a PersistentVolume (cluster-scoped), resolved through its claimRef
)

// Workload reports whether the subject names a workload directly (its name is
// the workload's), so the alert's Service can be set without resolution.
func (k SubjectKind) Workload() bool {
	switch k {
	case SubjectWorkload, SubjectDeployment, SubjectStatefulSet, SubjectDaemonSet:
		return true
	}
	return false
}

// ClusterScoped reports whether objects of the kind have no namespace.
func (k SubjectKind) ClusterScoped() bool {
	return k == SubjectNode || k == SubjectPV || k == SubjectNamespace
}

// Scope is the namespace the subject lives in: its own, or the name of a
// namespace subject; empty for nodes, volumes and no subject.
func (s SubjectRef) Scope() string {
	if s.Kind == SubjectNamespace {
		return s.Name
	}
	return s.Namespace
}

// SubjectRef is the object an alert names, before the platform resolves it
// to a workload. Namespace is the subject's, never the exporter's.
type SubjectRef struct {
	Kind      SubjectKind `json:"kind,omitempty"`
	Namespace string      `json:"namespace,omitempty"`
	Name      string      `json:"name,omitempty"`
}

// String is kind/namespace/name, e.g. "pod/shop/clickhouse-0".
func (s SubjectRef) String() string {
	switch {
	case s.Kind == SubjectNone:
		return "none"
	case s.Namespace == "":
		return string(s.Kind) + "/" + s.Name
	}
	return string(s.Kind) + "/" + s.Namespace + "/" + s.Name
}

// Family is the rule family an alert comes from (its rule file's group).
type Family string

// Rule families.
const (
	FamilyUnknown      Family = ""
	FamilyGeneral      Family = "general"              // Watchdog, InfoInhibitor, TargetDown
	FamilyApps         Family = "kubernetes-apps"      // kubernetes-mixin: pods, workloads, HPAs, jobs
	FamilyResources    Family = "kubernetes-resources" // kubernetes-mixin: quotas, CPU throttling, overcommit
	FamilyStorage      Family = "kubernetes-storage"   // kubernetes-mixin: persistent volumes
	FamilySystem       Family = "kubernetes-system"    // kubernetes-mixin: kubelet, API server, nodes
	FamilyNode         Family = "node-exporter"        // node-exporter mixin
	FamilyPostgreSQL   Family = "postgresql"           // postgres_exporter rules
	FamilyRedis        Family = "redis"                // redis_exporter rules
	FamilyClickHouse   Family = "clickhouse"           // ClickHouse's own metrics / exporter rules
	FamilyApplication  Family = "application"          // the application's own alerts (error rate, latency)
	FamilyPrometheus   Family = "prometheus"           // the monitoring stack's own alerts
	FamilyAlertmanager Family = "alertmanager"
	FamilyKubeState    Family = "kube-state-metrics" // kube-state-metrics' own errors and shards
)

// Action is what the rules planner does with an alert of a rule.
type Action string

// Actions.
const (
	ActionPlaybook Action = "playbook" // run the playbook of the alert's kind: act within the guardrails
	ActionDiagnose Action = "diagnose" // read, diagnose and escalate with the evidence; never write
	ActionNoOp     Action = "noop"     // by design (Watchdog, InfoInhibitor): no run, no page
)

// Classification is what an alert's name and labels say, by its rule
// family first and keywords last.
type Classification struct {
	Alertname string     `json:"alertname,omitempty"`
	Family    Family     `json:"family,omitempty"`
	Kind      Kind       `json:"kind"`
	Subject   SubjectRef `json:"subject"`
	Action    Action     `json:"action"`
	Runbook   string     `json:"runbook,omitempty"` // runbook_url annotation
	// Known reports whether the alert name is in the table; false: classified
	// by keywords.
	Known bool `json:"known"`
}
