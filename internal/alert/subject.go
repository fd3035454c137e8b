package alert

import "github.com/duet-company/ops-skill/internal/platform"

// SubjectKind is the kind of object an alert is about, as its labels name it
// — not the scrape target that exported the series (kube-state-metrics, the
// kubelet, an exporter pod). It is the platform's object kind: the platform
// resolves the subject (platform.Resolver).
type SubjectKind = platform.ObjectKind

// Subject kinds.
const (
	SubjectNone        = platform.ObjectNone        // the alert names no object (Watchdog, a cluster-wide alert)
	SubjectWorkload    = platform.ObjectWorkload    // a workload by name, kind unknown (app, service labels of an application)
	SubjectPod         = platform.ObjectPod         // resolved to its controller through ownerReferences
	SubjectDeployment  = platform.ObjectDeployment  //
	SubjectStatefulSet = platform.ObjectStatefulSet //
	SubjectDaemonSet   = platform.ObjectDaemonSet   //
	SubjectJob         = platform.ObjectJob         // a Job (label job_name on kube-state-metrics alerts)
	SubjectPVC         = platform.ObjectPVC         // resolved to the pods that mount it and their owner
	SubjectHPA         = platform.ObjectHPA         // resolved to its scaleTargetRef
	SubjectNode        = platform.ObjectNode        // node or instance of a node-exporter alert
	SubjectService     = platform.ObjectService     // a Kubernetes Service (ingress, mesh labels), resolved to its workload
	SubjectNamespace   = platform.ObjectNamespace   // a namespace-wide alert (quota)
	SubjectCronJob     = platform.ObjectCronJob     // a CronJob (label cronjob), resolved to its latest Job
	SubjectReplicaSet  = platform.ObjectReplicaSet  // a ReplicaSet (label replicaset), resolved to its Deployment
	SubjectPDB         = platform.ObjectPDB         // a PodDisruptionBudget (label poddisruptionbudget), resolved by its selector
	SubjectPV          = platform.ObjectPV          // a PersistentVolume (cluster-scoped), resolved through its claimRef
)

// SubjectRef is the object an alert names, before the platform resolves it
// to a workload. Namespace is the subject's, never the exporter's.
type SubjectRef = platform.ObjectRef

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
