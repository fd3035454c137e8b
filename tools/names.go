package tools

// Name is the name of a tool, as planners call it and history records it.
// Code outside this package names a tool with these constants, never with a
// string literal, so the compiler checks every package agrees on the word.
type Name string

// The tools of ops-skill.
const (
	QueryMetrics     Name = "queryMetrics"
	GetServiceStatus Name = "getServiceStatus"
	GetLogs          Name = "getLogs"
	CheckStorage     Name = "checkStorage"
	GetVolume        Name = "getVolume"
	CheckHealth      Name = "checkHealth"
	QueryHistory     Name = "queryHistory"
	ScaleDeployment  Name = "scaleDeployment"
	RestartPods      Name = "restartPods"
	UpdateResources  Name = "updateResources"
	DropPartitions   Name = "dropPartitions"
	ExpandVolume     Name = "expandVolume"
	Notify           Name = "notify"
	CreateIncident   Name = "createIncident"
)

// AllNames lists every tool name, in the registry's order.
func AllNames() []Name {
	return []Name{QueryMetrics, GetServiceStatus, GetLogs, CheckStorage, GetVolume, CheckHealth, QueryHistory,
		ScaleDeployment, RestartPods, UpdateResources, DropPartitions, ExpandVolume, Notify, CreateIncident}
}
