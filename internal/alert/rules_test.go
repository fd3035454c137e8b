package alert

import (
	"testing"
)

func TestRulesAreOneClassificationPerAlertName(t *testing.T) {
	seen := map[string]Rule{}
	for _, r := range Rules() {
		if prev, dup := seen[r.Alertname]; dup {
			t.Errorf("%s is in the table twice (%s and %s)", r.Alertname, prev.Family, r.Family)
		}
		seen[r.Alertname] = r
		if r.Alertname == "" || r.Family == FamilyUnknown || r.Kind == "" || r.Kind == KindUnknown || r.Subject == "" || r.Action == "" {
			t.Errorf("incomplete rule %+v", r)
		}
	}
}

// A planner that reads only the kind must not be able to act on an alert the
// table says to diagnose: a diagnose or no-op rule never has a playbook kind,
// and a playbook rule always has one.
func TestRulesKindsAgreeWithTheirAction(t *testing.T) {
	for _, r := range Rules() {
		switch r.Action {
		case ActionPlaybook:
			if !r.Kind.HasPlaybook() {
				t.Errorf("%s: playbook action but kind %q has no playbook", r.Alertname, r.Kind)
			}
			if r.Subject == FromNone {
				t.Errorf("%s: a playbook needs a subject to act on", r.Alertname)
			}
		case ActionDiagnose, ActionNoOp:
			if r.Kind.HasPlaybook() {
				t.Errorf("%s: %s action but kind %q has a playbook", r.Alertname, r.Action, r.Kind)
			}
		default:
			t.Errorf("%s: action %q", r.Alertname, r.Action)
		}
	}
}

func TestRulesCoverEveryFamilyTheBriefNames(t *testing.T) {
	count := map[Family]int{}
	for _, r := range Rules() {
		count[r.Family]++
	}
	for _, f := range []Family{FamilyGeneral, FamilyApps, FamilyResources, FamilyStorage, FamilySystem, FamilyNode,
		FamilyPostgreSQL, FamilyRedis, FamilyClickHouse, FamilyApplication} {
		if count[f] == 0 {
			t.Errorf("no rule of family %s", f)
		}
	}
	t.Logf("rules per family: %v", count)
}

func TestLookupFindsTheTable(t *testing.T) {
	for _, name := range []string{"KubePodCrashLooping", "Watchdog", "NodeFilesystemAlmostOutOfSpace", "PostgreSQLDown", "RedisDown", "ClickhouseNodeDown"} {
		if _, ok := Lookup(name); !ok {
			t.Errorf("%s not found", name)
		}
	}
	if _, ok := Lookup("kubepodcrashlooping"); ok {
		t.Error("alert names are case-sensitive, as in Prometheus")
	}
}
