package app

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDoctorWithoutAClusterNeverPrintsASecret runs doctor as a new user
// without a cluster but with channels and an LLM configured: every row is
// there, nothing is sent, and no secret appears in either output format.
func TestDoctorWithoutAClusterNeverPrintsASecret(t *testing.T) {
	hook := newReceiver(t)
	h := newHarness(t)
	secrets := map[string]string{
		"ALERT_WEBHOOK":         hook.srv.URL + "/services/T0/B0/doctorSECRETslack",
		"GENERIC_WEBHOOK_URL":   hook.srv.URL + "/hook?token=doctorSECRETgeneric",
		"PAGERDUTY_ROUTING_KEY": "doctorSECRETpagerduty00000000000",
		"LLM_PROVIDER":          "openai",
		"LLM_API_KEY":           "sk-doctorSECRETllm",
	}
	for k, v := range secrets {
		h.env[k] = v
	}
	code := h.run("doctor", "-o", "json")
	out := h.out.String() + h.errOut.String()
	if code != 0 {
		t.Fatalf("doctor exit %d, want 0:\n%s", code, out)
	}
	var rep struct {
		Checks []struct{ Group, Name, Status, Detail string }
	}
	if err := json.Unmarshal(h.out.Bytes(), &rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, out)
	}
	groups := map[string]string{}
	for _, c := range rep.Checks {
		groups[c.Group+" "+c.Name] = c.Status
	}
	for _, want := range []string{"config file", "cluster platform", "state dir", "state history", "notify channels", "llm model"} {
		if groups[want] == "" {
			t.Errorf("no %q row in %v", want, groups)
		}
	}
	if groups["cluster platform"] != "skip" || groups["notify channels"] != "pass" {
		t.Errorf("rows %v: want the simulated platform skipped and the channels listed", groups)
	}
	h.run("doctor")
	out += h.out.String() + h.errOut.String()
	if strings.Contains(out, "SECRET") {
		t.Errorf("doctor printed a secret:\n%s", out)
	}
	if got := hook.received(); len(got) != 0 {
		t.Errorf("doctor sent %d messages without --send-test", len(got))
	}
}

// TestDoctorSendTestDeliversOneMessagePerChannel: --send-test is the only way
// doctor sends anything, and the check passes only when it was delivered.
func TestDoctorSendTestDeliversOneMessagePerChannel(t *testing.T) {
	slack, generic := newReceiver(t), newReceiver(t)
	h := newHarness(t)
	h.env["ALERT_WEBHOOK"], h.env["GENERIC_WEBHOOK_URL"] = slack.srv.URL+"/services/x", generic.srv.URL+"/hook"
	h.env["NOTIFY_DEADLINE"] = "2s" // the dead channel below is given up quickly
	if code := h.run("doctor", "--send-test"); code != 0 {
		t.Fatalf("doctor --send-test exit %d:\n%s%s", code, h.out.String(), h.errOut.String())
	}
	if !strings.Contains(h.out.String(), "delivered to slack, webhook") {
		t.Errorf("doctor does not report the delivery:\n%s", h.out.String())
	}
	for name, r := range map[string]*receiver{"slack": slack, "webhook": generic} {
		if got := r.received(); len(got) != 1 || !strings.Contains(got[0], "test message from ops-skill doctor") {
			t.Errorf("%s received %q, want one test message", name, got)
		}
	}
	slack.srv.Close() // a channel that no longer answers fails the check
	if code := h.run("doctor", "--send-test"); code != 3 {
		t.Errorf("doctor --send-test with a dead channel: exit %d, want 3:\n%s", code, h.out.String())
	}
}
