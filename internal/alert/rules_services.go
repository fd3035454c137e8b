package alert

// The alerts of the databases and applications of the platform.

// postgresRules: group PostgreSQL of the postgres_exporter mixin,
// github.com/prometheus-community/postgres_exporter
// postgres_mixin/alerts/postgres.libsonnet (connection and query alerts sum by
// job, instance and server — server is the DSN's host:port, "127.0.0.1:5432"
// for a sidecar), and the PostgreSQL rules of
// github.com/samber/awesome-prometheus-alerts dist/rules/postgresql/postgres-exporter.yml.
// pg_up carries no server: the "down" alerts name the exporter's scrape
// target, whose pod is the database's when the exporter is a sidecar.
func postgresRules() []Rule {
	db := func(name string) Rule { return rule(name, KindDatabase, FromDatabase, ActionDiagnose) }
	return family(FamilyPostgreSQL,
		// postgres_mixin
		rule("PostgreSQLDown", KindConnection, FromDatabase, ActionPlaybook),
		db("PostgreSQLMaxConnectionsReached"), db("PostgreSQLHighConnections"), db("PostgreSQLSlowQueries"),
		db("PostgreSQLQPS"), db("PostgreSQLCacheHitRatio"), db("PostgresHasTooManyRollbacks"),
		db("PostgresHasHighDeadLocks"), db("PostgresAcquiredTooManyLocks"), db("PostgresReplicationLaggingMore1Hour"),
		db("PostgresHasReplicationSlotUsed"), db("PostgresReplicationRoleChanged"),
		rule("PostgresHasExporterErrors", KindMonitoring, FromDatabase, ActionDiagnose),
		db("PostgresTablesNotVaccumed"), db("PostgresTooManyCheckpointsRequested"),
		// awesome-prometheus-alerts
		rule("PostgresqlDown", KindConnection, FromDatabase, ActionPlaybook),
		db("PostgresqlRestarted"),
		rule("PostgresqlExporterError", KindMonitoring, FromDatabase, ActionDiagnose),
		db("PostgresqlTableNotAutoVacuumed"), db("PostgresqlTableNotAutoAnalyzed"), db("PostgresqlTooManyConnections"),
		db("PostgresqlNotEnoughConnections"), db("PostgresqlDeadLocks"), db("PostgresqlHighRollbackRate"),
		db("PostgresqlCommitRateLow"), db("PostgresqlLowXidConsumption"), db("PostgresqlUnusedReplicationSlot"),
		db("PostgresqlTooManyDeadTuples"), db("PostgresqlConfigurationChanged"), db("PostgresqlSslCompressionActive"),
		db("PostgresqlTooManyLocksAcquired"), db("PostgresqlBloatIndexHigh(>80%)"), db("PostgresqlBloatTableHigh(>80%)"),
		db("PostgresqlInvalidIndex"), db("PostgresqlReplicationLag"),
	)
}

// redisRules: group redis of the redis_exporter mixin,
// github.com/oliver006/redis_exporter contrib/redis-mixin/alerts/redis.libsonnet,
// and the Redis rules of awesome-prometheus-alerts
// dist/rules/redis/oliver006-redis-exporter.yml (RedisDown and
// RedisTooManyConnections are in both). redis_up and the memory series keep
// every target label: the sidecar exporter's pod is the Redis pod; in the
// exporter's multi-target mode instance is the redis:// address.
func redisRules() []Rule {
	db := func(name string) Rule { return rule(name, KindDatabase, FromDatabase, ActionDiagnose) }
	return family(FamilyRedis,
		rule("RedisDown", KindConnection, FromDatabase, ActionPlaybook),
		rule("RedisOutOfMemory", KindMemory, FromDatabase, ActionPlaybook),
		db("RedisTooManyConnections"), db("RedisClusterSlotFail"), db("RedisClusterSlotPfail"), db("RedisClusterStateNotOk"),
		db("RedisMissingMaster"), db("RedisTooManyMasters"), db("RedisDisconnectedSlaves"), db("RedisReplicationBroken"),
		db("RedisClusterFlapping"), db("RedisMissingBackup"),
		rule("RedisOutOfSystemMemory", KindMemory, FromDatabase, ActionPlaybook),
		// maxmemory is Redis' own setting: a larger container does not raise it.
		db("RedisOutOfConfiguredMaxmemory"),
		db("RedisNotEnoughConnections"), db("RedisRejectedConnections"),
	)
}

// clickhouseRules: ClickHouse's embedded exporter rules of
// awesome-prometheus-alerts dist/rules/clickhouse/embedded-exporter.yml (the
// scrape target is the ClickHouse pod itself), and group ClickHouseOperatorRules
// of github.com/Altinity/clickhouse-operator
// deploy/prometheus/prometheus-alert-rules-clickhouse.yaml (series of the
// operator's metrics exporter: hostname is the ClickHouse host's FQDN,
// exported_namespace its namespace).
func clickhouseRules() []Rule {
	db := func(name string) Rule { return rule(name, KindDatabase, FromDatabase, ActionDiagnose) }
	embedded := []Rule{
		rule("ClickhouseNodeDown", KindConnection, FromDatabase, ActionPlaybook),
		rule("ClickhouseMemoryUsageCritical", KindMemory, FromDatabase, ActionPlaybook),
		rule("ClickhouseMemoryUsageWarning", KindMemory, FromDatabase, ActionPlaybook),
		rule("ClickhouseDiskSpaceLowOnDefault", KindDisk, FromDatabase, ActionPlaybook),
		rule("ClickhouseDiskSpaceCriticalOnDefault", KindDisk, FromDatabase, ActionPlaybook),
		// Dropping data partitions does not free the backups disk.
		rule("ClickhouseDiskSpaceLowOnBackups", KindVolume, FromDatabase, ActionDiagnose),
		db("ClickhouseReplicaErrors"), db("ClickhouseNoAvailableReplicas"), db("ClickhouseNoLiveReplicas"),
		db("ClickhouseHighTcpConnections"), db("ClickhouseInterserverConnectionIssues"), db("ClickhouseZookeeperConnectionIssues"),
		db("ClickhouseAuthenticationFailures"), db("ClickhouseAccessDeniedErrors"), db("ClickhouseRejectedInsertQueries"),
		db("ClickhouseDelayedInsertQueries"), db("ClickhouseZookeeperHardwareException"), db("ClickhouseHighNetworkUsage"),
		db("ClickhouseDistributedRejectedInserts"),
	}
	operator := []Rule{
		rule("ClickHouseMetricsExporterDown", KindMonitoring, FromNone, ActionDiagnose),
		rule("ClickHouseServerDown", KindConnection, FromDatabase, ActionPlaybook),
		rule("ClickHouseMetricsExporterFetchErrors", KindMonitoring, FromDatabase, ActionDiagnose),
		db("ClickHouseServerRestartRecently"), db("ClickHouseDNSErrors"), db("ClickHouseDistributedFilesToInsertHigh"),
		db("ClickHouseDistributedConnectionExceptions"), db("ClickHouseRejectedInsert"), db("ClickHouseDelayedInsertThrottling"),
		db("ClickHouseMaxPartCountForPartition"), db("ClickHouseLowInsertedRowsPerQuery"), db("ClickHouseLongestRunningQuery"),
		db("ClickHouseQueryPreempted"), db("ClickHouseReadonlyReplica"), db("ClickHouseReplicasMaxAbsoluteDelay"),
		db("ClickHouseTooManyConnections"), db("ClickHouseTooManyRunningQueries"), db("ClickHouseSystemSettingsChanged"),
		db("ClickHouseVersionChanged"), db("ClickHouseZooKeeperHardwareExceptions"), db("ClickHouseZooKeeperSession"),
		rule("ClickHouseDiskUsage", KindDisk, FromDatabase, ActionPlaybook),
		db("ClickHouseReplicatedPartChecksFailed"), db("ClickHouseReplicatedPartFailedFetches"), db("ClickHouseReplicatedDataLoss"),
		db("ClickHouseStorageBufferErrorOnFlush"), db("ClickHouseDataAfterMergeDiffersFromReplica"),
		db("ClickHouseDistributedSyncInsertionTimeoutExceeded"), db("ClickHouseFileDescriptorBufferReadOrWriteFailed"),
		db("ClickHouseSlowRead"), db("ClickHouseTooManyMutations"), db("ClickHouseDetachedParts"),
		db("ClickHouseBackgroundMessageBrokerSchedulePoolUtilizationHigh"), db("ClickHouseKafkaRebalanceAssignment"),
		db("ClickHouseKafkaCommitFailures"), db("ClickHouseKafkaConsumerErrors"), db("ClickHouseKafkaRebalanceRevocations"),
	}
	return family(FamilyClickHouse, append(embedded, operator...)...)
}

// kubeStateRules: the kube-state-metrics alerts of
// github.com/samber/awesome-prometheus-alerts
// dist/rules/kubernetes/kubestate-exporter.yml (OOM killed, crash loops,
// replicas, HPAs, jobs, volumes, nodes), filed under the kubernetes-mixin
// family of the same topic.
func kubeStateRules() []Rule {
	apps := family(FamilyApps,
		rule("KubernetesContainerOomKiller", KindMemory, FromPod, ActionPlaybook),
		rule("KubernetesPodCrashLooping", KindCrashLoop, FromPod, ActionPlaybook),
		rule("KubernetesPodNotHealthy", KindReplicas, FromPod, ActionDiagnose),
		rule("KubernetesReplicasetReplicasMismatch", KindReplicas, FromReplicaSet, ActionDiagnose),
		rule("KubernetesDeploymentReplicasMismatch", KindReplicas, FromDeployment, ActionDiagnose),
		rule("KubernetesDeploymentGenerationMismatch", KindReplicas, FromDeployment, ActionDiagnose),
		rule("KubernetesStatefulsetDown", KindReplicas, FromStatefulSet, ActionDiagnose),
		rule("KubernetesStatefulsetReplicasMismatch", KindReplicas, FromStatefulSet, ActionDiagnose),
		rule("KubernetesStatefulsetGenerationMismatch", KindReplicas, FromStatefulSet, ActionDiagnose),
		rule("KubernetesStatefulsetUpdateNotRolledOut", KindReplicas, FromStatefulSet, ActionDiagnose),
		rule("KubernetesDaemonsetRolloutStuck", KindReplicas, FromDaemonSet, ActionDiagnose),
		rule("KubernetesDaemonsetMisscheduled", KindReplicas, FromDaemonSet, ActionDiagnose),
		rule("KubernetesHpaScaleInability", KindHPA, FromHPA, ActionDiagnose),
		rule("KubernetesHpaMetricsUnavailability", KindHPA, FromHPA, ActionDiagnose),
		rule("KubernetesHpaScaleMaximum", KindHPA, FromHPA, ActionDiagnose),
		rule("KubernetesHpaUnderutilized", KindHPA, FromHPA, ActionDiagnose),
		rule("KubernetesJobFailed", KindJob, FromJob, ActionDiagnose),
		rule("KubernetesJobNotStarting", KindJob, FromJob, ActionDiagnose),
		rule("KubernetesJobSlowCompletion", KindJob, FromJob, ActionDiagnose),
		rule("KubernetesCronjobFailing", KindJob, FromCronJob, ActionDiagnose),
		rule("KubernetesCronjobSuspended", KindJob, FromCronJob, ActionDiagnose),
		rule("KubernetesCronjobTooLong", KindJob, FromJob, ActionDiagnose),
	)
	storage := family(FamilyStorage,
		rule("KubernetesPersistentvolumeclaimPending", KindVolume, FromPVC, ActionDiagnose),
		rule("KubernetesVolumeOutOfDiskSpace", KindDisk, FromPVC, ActionPlaybook),
		rule("KubernetesVolumeFullInFourDays", KindDisk, FromPVC, ActionPlaybook),
		rule("KubernetesPersistentvolumeError", KindVolume, FromPV, ActionDiagnose),
	)
	system := family(FamilySystem,
		rule("KubernetesNodeNotReady", KindNode, FromNode, ActionDiagnose),
		rule("KubernetesNodeSchedulingDisabled", KindNode, FromNode, ActionDiagnose),
		rule("KubernetesNodeMemoryPressure", KindNode, FromNode, ActionDiagnose),
		rule("KubernetesNodeDiskPressure", KindNode, FromNode, ActionDiagnose),
		rule("KubernetesNodeNetworkUnavailable", KindNode, FromNode, ActionDiagnose),
		rule("KubernetesNodeOutOfPodCapacity", KindNode, FromNode, ActionDiagnose),
		rule("KubernetesApiServerErrors", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubernetesApiClientErrors", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubernetesClientCertificateExpiresNextWeek", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubernetesClientCertificateExpiresSoon", KindControlPlane, FromNone, ActionDiagnose),
		rule("KubernetesApiServerLatency", KindControlPlane, FromNone, ActionDiagnose),
	)
	return append(append(apps, storage...), system...)
}

// applicationRules: the common alerts of workloads, from
// awesome-prometheus-alerts dist/rules/docker-containers/google-cadvisor.yml
// (container CPU and memory), dist/rules/istio/embedded-exporter.yml,
// dist/rules/traefik/embedded-exporter-v2.yml and
// dist/rules/nginx/knyar-nginx-exporter.yml (error rate and latency); and
// the example rules of github.com/kubernetes/ingress-nginx
// charts/ingress-nginx/values.yaml (controller.metrics.prometheusRule).
func applicationRules() []Rule {
	return family(FamilyApplication,
		// cAdvisor: sums by pod and container, or by the runtime's container
		// name, which names no Kubernetes object.
		rule("ContainerHighCpuUtilization", KindCPU, FromPod, ActionPlaybook),
		rule("ContainerHighThrottleRate", KindCPU, FromPod, ActionPlaybook),
		rule("ContainerHighMemoryUsage", KindMemory, FromPod, ActionPlaybook),
		rule("ContainerVolumeUsage", KindNode, FromNode, ActionDiagnose),
		// Istio
		rule("IstioHigh5xxErrorRate", KindErrorRate, FromApplication, ActionPlaybook),
		rule("IstioHigh4xxErrorRate", KindClientErrors, FromApplication, ActionDiagnose),
		rule("IstioHighRequestLatency", KindLatency, FromApplication, ActionPlaybook),
		rule("IstioLatency99Percentile", KindLatency, FromApplication, ActionPlaybook),
		// Traefik v2: by the router's service, "<namespace>-<service>-<port>@kubernetes".
		rule("TraefikServiceDown", KindConnection, FromApplication, ActionPlaybook),
		rule("TraefikHighHttp4xxErrorRateService", KindClientErrors, FromApplication, ActionDiagnose),
		rule("TraefikHighHttp5xxErrorRateService", KindErrorRate, FromApplication, ActionPlaybook),
		// nginx (knyar-nginx-exporter.yml) and ingress-nginx's example rules
		rule("NginxHighHttp4xxErrorRate", KindClientErrors, FromApplication, ActionDiagnose),
		rule("NginxHighHttp5xxErrorRate", KindErrorRate, FromApplication, ActionPlaybook),
		rule("NginxLatencyHigh", KindLatency, FromApplication, ActionPlaybook),
		rule("NGINXTooMany500s", KindErrorRate, FromApplication, ActionPlaybook),
		rule("NGINXTooMany400s", KindClientErrors, FromApplication, ActionDiagnose),
	)
}
