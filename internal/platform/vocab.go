package platform

// IncidentStatus is the status of an incident, as history keeps it and the
// agent, serve and the CLI set and show it.
type IncidentStatus string

// Incident statuses.
const (
	IncidentOpen      IncidentStatus = "open"      // opened, nothing settled yet
	IncidentMitigated IncidentStatus = "mitigated" // acted and verified back to normal
	IncidentEscalated IncidentStatus = "escalated" // handed to people
	IncidentResolved  IncidentStatus = "resolved"  // the alert resolved
)

// Valid reports whether s is one of the incident statuses.
func (s IncidentStatus) Valid() bool {
	switch s {
	case IncidentOpen, IncidentMitigated, IncidentEscalated, IncidentResolved:
		return true
	}
	return false
}
