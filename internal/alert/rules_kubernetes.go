package alert

// The alerts of kube-prometheus and the mixins it renders. Label sets were
// read from the rendered rules of
// github.com/prometheus-operator/kube-prometheus (manifests/*-prometheusRule.yaml)
// and of kube-prometheus-stack, github.com/prometheus-community/helm-charts
// (charts/kube-prometheus-stack/templates/prometheus/rules-1.14/*.yaml): the
// same alerts, the same expressions.

// generalRules: group general.rules, kube-prometheus
// manifests/kubePrometheus-prometheusRule.yaml (kube-prometheus-stack
// rules-1.14/general.rules.yaml). TargetDown aggregates by job, namespace and
// service (the scrape target's); Watchdog and InfoInhibitor fire by design.
func generalRules() []Rule {
	return family(FamilyGeneral,
		rule("TargetDown", KindDown, FromTarget, ActionDiagnose),
		rule("Watchdog", KindMonitoring, FromNone, ActionNoOp),
		rule("InfoInhibitor", KindMonitoring, FromNone, ActionNoOp),
	)
}

// kubernetesAppsRules: group kubernetes-apps of the kubernetes-mixin,
// github.com/kubernetes-monitoring/kubernetes-mixin alerts/apps_alerts.libsonnet
// (rendered in kube-prometheus manifests/kubernetesControlPlane-prometheusRule.yaml).
// kube-state-metrics series: the namespace and object labels are the object's.
func kubernetesAppsRules() []Rule {
	return family(FamilyApps,
		rule("KubePodCrashLooping", KindCrashLoop, FromPod, ActionPlaybook),
		rule("KubePodNotReady", KindReplicas, FromPod, ActionDiagnose),
		rule("KubeDeploymentGenerationMismatch", KindReplicas, FromDeployment, ActionDiagnose),
		rule("KubeDeploymentReplicasMismatch", KindReplicas, FromDeployment, ActionDiagnose),
		rule("KubeDeploymentRolloutStuck", KindReplicas, FromDeployment, ActionDiagnose),
		rule("KubeStatefulSetReplicasMismatch", KindReplicas, FromStatefulSet, ActionDiagnose),
		rule("KubeStatefulSetGenerationMismatch", KindReplicas, FromStatefulSet, ActionDiagnose),
		rule("KubeStatefulSetUpdateNotRolledOut", KindReplicas, FromStatefulSet, ActionDiagnose),
		rule("KubeDaemonSetRolloutStuck", KindReplicas, FromDaemonSet, ActionDiagnose),
		rule("KubeContainerWaiting", KindReplicas, FromPod, ActionDiagnose),
		rule("KubeDaemonSetNotScheduled", KindReplicas, FromDaemonSet, ActionDiagnose),
		rule("KubeDaemonSetMisScheduled", KindReplicas, FromDaemonSet, ActionDiagnose),
		rule("KubeJobNotCompleted", KindJob, FromJob, ActionDiagnose),
		rule("KubeJobFailed", KindJob, FromJob, ActionDiagnose),
		rule("KubeHpaReplicasMismatch", KindHPA, FromHPA, ActionDiagnose),
		rule("KubeHpaMaxedOut", KindHPA, FromHPA, ActionDiagnose),
		rule("KubePdbNotEnoughHealthyPods", KindReplicas, FromPDB, ActionDiagnose),
	)
}

// kubernetesResourcesRules: group kubernetes-resources,
// kubernetes-mixin alerts/resource_alerts.libsonnet. The overcommit alerts
// aggregate by cluster; the quota alerts keep namespace, resource and
// resourcequota; CPUThrottlingHigh keeps the kubelet's (cAdvisor's)
// namespace, pod and container.
func kubernetesResourcesRules() []Rule {
	return family(FamilyResources,
		rule("KubeCPUOvercommit", KindQuota, FromNone, ActionDiagnose),
		rule("KubeMemoryOvercommit", KindQuota, FromNone, ActionDiagnose),
		rule("KubeCPUQuotaOvercommit", KindQuota, FromNone, ActionDiagnose),
		rule("KubeMemoryQuotaOvercommit", KindQuota, FromNone, ActionDiagnose),
		rule("KubeQuotaAlmostFull", KindQuota, FromNamespace, ActionDiagnose),
		rule("KubeQuotaFullyUsed", KindQuota, FromNamespace, ActionDiagnose),
		rule("KubeQuotaExceeded", KindQuota, FromNamespace, ActionDiagnose),
		rule("CPUThrottlingHigh", KindCPU, FromPod, ActionPlaybook),
	)
}

// kubernetesStorageRules: group kubernetes-storage,
// kubernetes-mixin alerts/storage_alerts.libsonnet. kubelet_volume_stats_*
// carry the claim's namespace and persistentvolumeclaim; the kubelet target
// adds node, service, endpoint, instance and metrics_path.
func kubernetesStorageRules() []Rule {
	return family(FamilyStorage,
		rule("KubePersistentVolumeFillingUp", KindDisk, FromPVC, ActionPlaybook),
		rule("KubePersistentVolumeInodesFillingUp", KindVolume, FromPVC, ActionDiagnose),
		rule("KubePersistentVolumeErrors", KindVolume, FromPV, ActionDiagnose),
	)
}

// kubernetesSystemRules: groups kubernetes-system, kubernetes-system-apiserver,
// kube-apiserver-slos, kubernetes-system-kubelet, kubernetes-system-scheduler,
// kubernetes-system-controller-manager and kubernetes-system-kube-proxy,
// kubernetes-mixin alerts/system_alerts.libsonnet, kube_apiserver.libsonnet,
// kubelet.libsonnet, kube_scheduler.libsonnet, kube_controller_manager.libsonnet,
// kube_proxy.libsonnet. Node alerts carry node (kube-state-metrics, or the
// kubelet target's node label); the control plane's aggregate it away.
func kubernetesSystemRules() []Rule {
	return family(FamilySystem,
		rule("KubeVersionMismatch", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubeClientErrors", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubeAPIErrorBudgetBurn", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubeClientCertificateExpiration", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubeAggregatedAPIErrors", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubeAggregatedAPIDown", KindDown, FromNone, ActionDiagnose),
		rule("KubeAPIDown", KindDown, FromNone, ActionDiagnose),
		rule("KubeAPIInstanceUnreachable", KindDown, FromNone, ActionDiagnose),
		rule("KubeAPITerminatedRequests", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubeNodeNotReady", KindNode, FromNode, ActionDiagnose),
		rule("KubeNodePressure", KindNode, FromNode, ActionDiagnose),
		rule("KubeNodeUnreachable", KindNode, FromNode, ActionDiagnose),
		rule("KubeletTooManyPods", KindNode, FromNode, ActionDiagnose),
		rule("KubeNodeReadinessFlapping", KindNode, FromNode, ActionDiagnose),
		rule("KubeNodeEviction", KindNode, FromNode, ActionDiagnose),
		rule("KubeletPlegDurationHigh", KindNode, FromNode, ActionDiagnose),
		rule("KubeletPodStartUpLatencyHigh", KindNode, FromNode, ActionDiagnose),
		rule("KubeletClientCertificateExpiration", KindNode, FromNode, ActionDiagnose),
		rule("KubeletServerCertificateExpiration", KindNode, FromNode, ActionDiagnose),
		rule("KubeletClientCertificateRenewalErrors", KindNode, FromNode, ActionDiagnose),
		rule("KubeletServerCertificateRenewalErrors", KindNode, FromNode, ActionDiagnose),
		rule("KubeletInstanceUnreachable", KindNode, FromNode, ActionDiagnose),
		rule("KubeletDown", KindDown, FromNone, ActionDiagnose),
		rule("KubeSchedulerDown", KindDown, FromNone, ActionDiagnose),
		rule("KubeSchedulerInstanceUnreachable", KindDown, FromNone, ActionDiagnose),
		rule("KubeControllerManagerDown", KindDown, FromNone, ActionDiagnose),
		rule("KubeControllerManagerInstanceUnreachable", KindDown, FromNone, ActionDiagnose),
		rule("KubeProxyDown", KindDown, FromNone, ActionDiagnose),
		rule("KubeProxyInstanceUnreachable", KindDown, FromNone, ActionDiagnose),
	)
}

// kubeStateMetricsRules: group kube-state-metrics, kube-prometheus
// manifests/kubeStateMetrics-prometheusRule.yaml (the exporter's own health).
func kubeStateMetricsRules() []Rule {
	return family(FamilyKubeState,
		rule("KubeStateMetricsListErrors", KindMonitoring, FromNone, ActionDiagnose),
		rule("KubeStateMetricsWatchErrors", KindMonitoring, FromNone, ActionDiagnose),
		rule("KubeStateMetricsShardingMismatch", KindMonitoring, FromNone, ActionDiagnose),
		rule("KubeStateMetricsShardsMissing", KindMonitoring, FromNone, ActionDiagnose),
	)
}

// nodeExporterRules: group node-exporter of the node-exporter mixin,
// github.com/prometheus/node_exporter docs/node-mixin/alerts/alerts.libsonnet
// (rendered in kube-prometheus manifests/nodeExporter-prometheusRule.yaml),
// and NodeNetworkInterfaceFlapping of group node-network
// (manifests/kubePrometheus-prometheusRule.yaml). The series keep instance:
// the node's name in kube-prometheus (its ServiceMonitor relabels
// __meta_kubernetes_pod_node_name into instance), "<node IP>:9100" in
// kube-prometheus-stack (hostNetwork, no relabeling). Nodes are diagnosed,
// never written to.
func nodeExporterRules() []Rule {
	node := func(name string) Rule { return rule(name, KindNode, FromNode, ActionDiagnose) }
	return family(FamilyNode,
		node("NodeFilesystemSpaceFillingUp"), node("NodeFilesystemAlmostOutOfSpace"),
		node("NodeFilesystemFilesFillingUp"), node("NodeFilesystemAlmostOutOfFiles"),
		node("NodeNetworkReceiveErrs"), node("NodeNetworkTransmitErrs"),
		node("NodeHighNumberConntrackEntriesUsed"), node("NodeTextFileCollectorScrapeError"),
		node("NodeClockSkewDetected"), node("NodeClockNotSynchronising"),
		node("NodeRAIDDegraded"), node("NodeRAIDDiskFailure"),
		node("NodeFileDescriptorLimit"), node("NodeCPUHighUsage"),
		node("NodeSystemSaturation"), node("NodeMemoryMajorPagesFaults"),
		node("NodeMemoryHighUtilization"), node("NodeDiskIOSaturation"),
		node("NodeSystemdServiceFailed"), node("NodeSystemdServiceCrashlooping"),
		node("NodeBondingDegraded"), node("NodeNetworkInterfaceFlapping"),
	)
}

// monitoringRules: the monitoring stack's own alerts, kube-prometheus
// manifests/prometheus-prometheusRule.yaml (group prometheus) and
// manifests/alertmanager-prometheusRule.yaml (group alertmanager.rules).
func monitoringRules() []Rule {
	mon := func(name string) Rule { return rule(name, KindMonitoring, FromNone, ActionDiagnose) }
	prom := family(FamilyPrometheus,
		mon("PrometheusBadConfig"), mon("PrometheusSDRefreshFailure"), mon("PrometheusKubernetesListWatchFailures"),
		mon("PrometheusNotificationQueueRunningFull"), mon("PrometheusErrorSendingAlertsToSomeAlertmanagers"),
		mon("PrometheusNotConnectedToAlertmanagers"), mon("PrometheusTSDBReloadsFailing"), mon("PrometheusTSDBCompactionsFailing"),
		mon("PrometheusNotIngestingSamples"), mon("PrometheusDuplicateTimestamps"), mon("PrometheusOutOfOrderTimestamps"),
		mon("PrometheusRemoteStorageFailures"), mon("PrometheusRemoteWriteBehind"), mon("PrometheusRemoteWriteDesiredShards"),
		mon("PrometheusRuleFailures"), mon("PrometheusMissingRuleEvaluations"), mon("PrometheusTargetLimitHit"),
		mon("PrometheusLabelLimitHit"), mon("PrometheusScrapeBodySizeLimitHit"), mon("PrometheusScrapeSampleLimitHit"),
		mon("PrometheusTargetSyncFailure"), mon("PrometheusHighQueryLoad"), mon("PrometheusErrorSendingAlertsToAnyAlertmanager"),
	)
	am := family(FamilyAlertmanager,
		mon("AlertmanagerFailedReload"), mon("AlertmanagerMembersInconsistent"), mon("AlertmanagerFailedToSendAlerts"),
		mon("AlertmanagerClusterFailedToSendAlerts"), mon("AlertmanagerConfigInconsistent"), mon("AlertmanagerClusterDown"),
		mon("AlertmanagerClusterCrashlooping"), mon("AlertmanagerClusterFailedPeers"),
	)
	return append(prom, am...)
}
