package notify

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestWebhookBodyOfTheEscalatedIncidentMatchesGolden(t *testing.T) {
	rc := newReceiver(t, always(202, ""))
	w, err := NewWebhook(rc.URL+"/hooks/ops", SenderOptions{GrafanaURL: grafanaBase})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(context.Background(), []platform.Notification{oomIncident()}); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 || reqs[0].Path != "/hooks/ops" || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests %+v", reqs)
	}
	golden(t, "webhook_oom.json", reqs[0].Body)
}

func TestWebhookBodyFromTodaysAgentHasActionsAndVerification(t *testing.T) {
	w, _ := NewWebhook("https://chat.example/hook", SenderOptions{})
	b := w.Body(legacy(cpuIncident()))
	if b.State != "resolved" || len(b.Actions) != 1 || b.Actions[0].From != "3" || b.Actions[0].To != "4" ||
		b.Verification == nil || b.Verification.Detail != "CPU after 2m: 45% (was 85%)" || b.Alert != "Backend service CPU at 85% for 5 minutes" {
		t.Errorf("body %+v", b)
	}
	if b.Refusals == nil {
		t.Error("refusals must be [] not null")
	}
}

func TestWebhookCoalescedPostIsAnArray(t *testing.T) {
	rc := newReceiver(t, always(200, ""))
	w, _ := NewWebhook(rc.URL+"/hook", SenderOptions{})
	if err := w.Send(context.Background(), []platform.Notification{cpuIncident(), diskIncident()}); err != nil {
		t.Fatal(err)
	}
	var got []WebhookBody
	if err := json.Unmarshal(rc.requests()[0].Body, &got); err != nil || len(got) != 2 || got[1].Title != diskIncident().Title {
		t.Fatalf("body %s: %v", rc.requests()[0].Body, err)
	}
}

func TestWebhookThroughADispatcherRetries500AndStopsOn400(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(int, request) answer
		kinds  []error
		posts  int
	}{
		{"500 then 202", func(i int, _ request) answer {
			if i == 0 {
				return answer{status: 500}
			}
			return answer{status: 202}
		}, nil, 2},
		{"400 is final", always(400, `{"error":"bad body"}`), []error{ErrRejected}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, tc.script)
			fc := testingclock.NewFakeClock(t0)
			w, _ := NewWebhook(rc.URL+"/hook", SenderOptions{Clock: fc})
			d := NewDispatcher(w, DispatcherOptions{Clock: fc, Interval: time.Second})
			defer d.Close(context.Background())
			var err error
			run(t, fc, func() { err = d.Notify(context.Background(), cpuIncident()) }, d)
			checkKinds(t, err, tc.kinds)
			if n := len(rc.requests()); n != tc.posts {
				t.Errorf("%d posts, want %d", n, tc.posts)
			}
			if tc.kinds != nil {
				var de *DeliveryError
				if errors.As(err, &de); de.Reason != "bad body" || de.Channel != "webhook" {
					t.Errorf("error %+v", de)
				}
			}
		})
	}
}
