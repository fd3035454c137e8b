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

// VerifyResult is the outcome of the verification code makes after acting:
// the agent decides it, notifications report it, renderers show it.
type VerifyResult string

// Verification results.
const (
	VerifyResolved   VerifyResult = "resolved"   // the alert's signal is back to normal
	VerifyUnresolved VerifyResult = "unresolved" // the signal did not recover
	VerifyWorse      VerifyResult = "worse"      // the signal got worse
	VerifyUnknown    VerifyResult = "unknown"    // the signal could not be read
)
