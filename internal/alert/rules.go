package alert

// The classification table: what ops-skill knows of the alerts of the
// public rule files it was written against (rules_*.go, each group citing
// its source). An alert's name finds its rule; the rule says the family, the
// kind, which labels name the subject and what the rules planner does.

// SubjectFrom says which labels of an alert name its subject.
type SubjectFrom string

// Where subjects come from.
const (
	// FromNone: the alert is cluster-wide or about the monitoring itself;
	// its labels name no object to act on.
	FromNone SubjectFrom = "none"
	// Object labels of kube-state-metrics and kubelet series (with their
	// namespace); exported_<label> wins where the scrape renamed a collision.
	FromPod         SubjectFrom = "pod"
	FromDeployment  SubjectFrom = "deployment"
	FromStatefulSet SubjectFrom = "statefulset"
	FromDaemonSet   SubjectFrom = "daemonset"
	FromReplicaSet  SubjectFrom = "replicaset"
	FromJob         SubjectFrom = "job_name"
	FromCronJob     SubjectFrom = "cronjob"
	FromHPA         SubjectFrom = "horizontalpodautoscaler"
	FromPDB         SubjectFrom = "poddisruptionbudget"
	FromPVC         SubjectFrom = "persistentvolumeclaim"
	FromPV          SubjectFrom = "persistentvolume"
	FromNamespace   SubjectFrom = "namespace"
	// FromNode: the node label, else the instance without its port
	// (node-exporter; an IP when the scrape kept the address).
	FromNode SubjectFrom = "node"
	// FromTarget: the scrape target's Service and namespace (TargetDown).
	FromTarget SubjectFrom = "target"
	// FromDatabase: the database host of the series (postgres_exporter's
	// server, the ClickHouse operator's hostname, a redis:// instance), else
	// the exporter's own pod — a sidecar's pod is the database's — or Service.
	FromDatabase SubjectFrom = "database"
	// FromApplication: mesh and ingress labels (Istio, ingress-nginx,
	// Traefik), then workload labels (deployment, app, service, pod).
	FromApplication SubjectFrom = "application"
)

// objectLabel is a label of kube-state-metrics or the kubelet that names an
// object, in the order a subject is looked for when a rule's own label is
// missing.
type objectLabel struct {
	from  SubjectFrom
	label string
	kind  SubjectKind
}

// workloadObjects are the object labels that name a workload directly.
var workloadObjects = []objectLabel{
	{FromDeployment, "deployment", SubjectDeployment},
	{FromStatefulSet, "statefulset", SubjectStatefulSet},
	{FromDaemonSet, "daemonset", SubjectDaemonSet},
}

// podObject is the pod label.
var podObject = objectLabel{FromPod, "pod", SubjectPod}

var objectLabels = append(append(append([]objectLabel(nil), workloadObjects...),
	objectLabel{FromReplicaSet, "replicaset", SubjectReplicaSet},
	objectLabel{FromJob, "job_name", SubjectJob},
	objectLabel{FromCronJob, "cronjob", SubjectCronJob},
	objectLabel{FromHPA, "horizontalpodautoscaler", SubjectHPA},
	objectLabel{FromPDB, "poddisruptionbudget", SubjectPDB},
	objectLabel{FromPVC, "persistentvolumeclaim", SubjectPVC},
	objectLabel{FromPV, "persistentvolume", SubjectPV},
), podObject)

// Rule is what the table knows of one alert name.
type Rule struct {
	Alertname string
	Family    Family
	Kind      Kind
	Subject   SubjectFrom
	Action    Action
}

// rule is one row of a family's table.
func rule(name string, kind Kind, from SubjectFrom, action Action) Rule {
	return Rule{Alertname: name, Kind: kind, Subject: from, Action: action}
}

// family sets the family of its rows.
func family(f Family, rows ...Rule) []Rule {
	for i := range rows {
		rows[i].Family = f
	}
	return rows
}

// Rules returns the classification table, in the order of the rule files.
func Rules() []Rule {
	var out []Rule
	for _, part := range [][]Rule{generalRules(), kubernetesAppsRules(), kubernetesResourcesRules(), kubernetesStorageRules(),
		kubernetesSystemRules(), kubeStateMetricsRules(), nodeExporterRules(), monitoringRules(),
		postgresRules(), redisRules(), clickhouseRules(), kubeStateRules(), applicationRules()} {
		out = append(out, part...)
	}
	return out
}

// ruleIndex finds a rule by alert name; built once from Rules, read only.
var ruleIndex = indexRules(Rules())

func indexRules(rules []Rule) map[string]Rule {
	out := make(map[string]Rule, len(rules))
	for _, r := range rules {
		if _, dup := out[r.Alertname]; !dup {
			out[r.Alertname] = r
		}
	}
	return out
}

// Lookup returns the rule of an alert name.
func Lookup(alertname string) (Rule, bool) {
	r, ok := ruleIndex[alertname]
	return r, ok
}
