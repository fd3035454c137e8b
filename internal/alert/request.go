package alert

import (
	"regexp"
	"strconv"
	"time"
)

// Intent is what an operator's free-text request in a conversation asks for.
// Code decides the intent, so a planner never has to read the raw text to know
// what was asked.
type Intent string

// Intents of a request.
const (
	IntentIncident  Intent = "incident"  // the request describes a problem: handle it like an alert
	IntentHealth    Intent = "health"    // check the health of the platform
	IntentAutoscale Intent = "autoscale" // check health and scale what the rules call for
	IntentHistory   Intent = "history"   // explain past actions or alerts
	IntentStorage   Intent = "storage"   // disk usage and growth
	IntentWhatIf    Intent = "what_if"   // what would the rules do if …
	IntentStatus    Intent = "status"    // the state of one service
	IntentScale     Intent = "scale"     // set a workload's replicas: "scale it to 3"
	IntentRestart   Intent = "restart"   // restart a workload: "restart frontend"
	// IntentFollowUp asks again about another subject: "and for frontend?",
	// "what about redis?". The conversation's last request says what.
	IntentFollowUp Intent = "follow_up"
	IntentHelp     Intent = "help" // nothing recognised
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
	{IntentScale, regexp.MustCompile(`\bscale\b.*\bto\s+\d+\b`)},
	{IntentRestart, regexp.MustCompile(`^(please\s+)?(restart|rollout restart|bounce)\b`)},
	{IntentStatus, regexp.MustCompile(`\b(status|state of|how is|how are|show)\b`)},
	{IntentFollowUp, regexp.MustCompile(`^(and|what about|how about|same for|also|now)\b`)},
}

// replicasRe finds the replica count a scale request asks for.
var replicasRe = regexp.MustCompile(`\bto\s+(\d{1,4})\b`)

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
	lower := toLower(a.Text)
	a.Intent = DetectIntent(lower)
	if a.Intent == IntentScale {
		if m := replicasRe.FindStringSubmatch(lower); m != nil {
			n, _ := strconv.Atoi(m[1])
			a.Replicas = int32(n)
		}
	}
	if a.Intent == "" {
		a.Intent = IntentHelp
		if a.Kind != KindUnknown && a.Service != "" {
			a.Intent = IntentIncident
		}
	}
	return a, nil
}
