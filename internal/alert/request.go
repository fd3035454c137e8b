package alert

import (
	"regexp"
	"time"
)

// Intent is what an operator's free-text request in a conversation asks for.
// Code decides the intent, so a planner never has to read the raw text to know
// what was asked.
type Intent string

// Intents of a request.
const (
	IntentIncident  Intent = "incident"  // the request describes a problem: handle it like an alert
	IntentHealth           = "health"    // check the health of the platform
	IntentAutoscale        = "autoscale" // check health and scale what the rules call for
	IntentHistory          = "history"   // explain past actions or alerts
	IntentStorage          = "storage"   // disk usage and growth
	IntentWhatIf           = "what_if"   // what would the rules do if …
	IntentStatus           = "status"    // the state of one service
	IntentHelp             = "help"      // nothing recognised
)

var intentRules = []struct {
	intent Intent
	re     *regexp.Regexp
}{
	{IntentHistory, regexp.MustCompile(`\b(why|when did|did you|what did you|history|last (action|scale|restart)s?)\b`)},
	{IntentWhatIf, regexp.MustCompile(`\b(what would you do|what if|would you|suppose|hypothetically)\b`)},
	{IntentAutoscale, regexp.MustCompile(`\b(auto-?scale|auto scale|scale if needed|scale (it |them )?if)\b`)},
	{IntentHealth, regexp.MustCompile(`\b(health|healthy|health checks?)\b`)},
	{IntentStorage, regexp.MustCompile(`\b(disk|storage|growth|partitions?|space)\b`)},
	{IntentStatus, regexp.MustCompile(`\b(status|state of|how is|how are|show)\b`)},
}

// DetectIntent classifies lower-cased request text.
func DetectIntent(lower string) Intent {
	for _, r := range intentRules {
		if r.re.MatchString(lower) {
			return r.intent
		}
	}
	return ""
}

// ParseRequest reads an operator's free-text request in a conversation: the
// facts of ParseText plus the intent.
func (p Parser) ParseRequest(text string, now time.Time) (Alert, error) {
	a, err := p.ParseText(text, now)
	if err != nil {
		return a, err
	}
	a.Source = SourceChat
	a.Intent = DetectIntent(toLower(a.Text))
	if a.Intent == "" {
		a.Intent = IntentHelp
		if a.Kind != KindUnknown && a.Service != "" {
			a.Intent = IntentIncident
		}
	}
	return a, nil
}
