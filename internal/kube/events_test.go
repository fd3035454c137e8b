package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestRecordEventCreatesAnEventOnTheWorkload(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	err := f.c.RecordEvent(context.Background(), backend, platform.Event{Reason: "SuccessfulRescale", Message: "ops-skill: new size 4"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.kube.EventsV1().Events(testNS).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("events = %v, %v", l, err)
	}
	e := l.Items[0]
	checks := map[string][2]string{
		"reportingController": {e.ReportingController, "ops-skill"},
		"reportingInstance":   {e.ReportingInstance, "test"},
		"action":              {e.Action, "Scale"},
		"reason":              {e.Reason, "SuccessfulRescale"},
		"type":                {e.Type, "Normal"},
		"note":                {e.Note, "ops-skill: new size 4"},
		"regarding":           {e.Regarding.Kind + "/" + e.Regarding.Name + "/" + string(e.Regarding.UID), "Deployment/backend/uid-d-backend"},
		"eventTime":           {e.EventTime.UTC().Format("15:04:05"), "12:00:00"},
	}
	for field, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", field, c[0], c[1])
		}
	}
}

func TestRecordEventActions(t *testing.T) {
	for reason, want := range map[string]string{
		"SuccessfulRescale": "Scale", "SuccessfulRestart": "Restart", "FailedEviction": "Evict",
		"SuccessfulEviction": "Evict", "SuccessfulUpdateResources": "UpdateResources", "SuccessfulExpansion": "ExpandVolume", "Other": "Act",
	} {
		if got := action(reason); got != want {
			t.Errorf("action(%q) = %q, want %q", reason, got, want)
		}
	}
}

func TestRecordEventClipsTheNote(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	err := f.c.RecordEvent(context.Background(), backend, platform.Event{Type: "Warning", Reason: "FailedEviction", Message: strings.Repeat("x", 5000)})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := f.kube.EventsV1().Events(testNS).List(context.Background(), metav1.ListOptions{})
	if n := len(l.Items[0].Note); n != maxNoteBytes {
		t.Errorf("note is %d bytes, want %d", n, maxNoteBytes)
	}
	var _ eventsv1.Event
}

func TestErrorsMapToSentinels(t *testing.T) {
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	tests := []struct {
		name     string
		err      error
		want     error
		contains []string
	}{
		{"not found", apierrors.NewNotFound(gr, "backend"), platform.ErrNotFound, nil},
		{"conflict", apierrors.NewConflict(gr, "backend", errors.New("modified")), platform.ErrConflict, nil},
		{"forbidden names verb, resource and fix", apierrors.NewForbidden(gr, "backend", errors.New("RBAC: denied")), ErrForbidden,
			[]string{"may not update deployments.apps", "deploy/rbac.yaml", "namespace ai-data-labs", "RBAC: denied"}},
		{"unauthorized", apierrors.NewUnauthorized("bad token"), ErrUnauthorized, nil},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "backend", nil), ErrInvalid, nil},
		{"internal error", apierrors.NewInternalError(errors.New("etcd")), platform.ErrUnavailable, []string{"HTTP 500"}},
		{"service unavailable", apierrors.NewServiceUnavailable("down"), platform.ErrUnavailable, nil},
		{"throttled", apierrors.NewTooManyRequests("slow down", 1), platform.ErrUnavailable, nil},
		{"connection refused", fmt.Errorf("dial tcp 127.0.0.1:6443: connect: connection refused"), platform.ErrUnavailable,
			[]string{"did not answer", "connection refused"}},
	}
	c := New(nil, nil, testNS)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.wrap(context.Background(), op{"update", "deployments.apps", testNS, "backend"}, tt.err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestErrorsOfACancelledCallAreTheContexts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := New(nil, nil, "").wrap(ctx, op{verb: "get"}, errors.New("whatever"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("err = %v, want context.Canceled only", err)
	}
}

func TestDisruptionBudgetIsRecognisedByCauseOrMessage(t *testing.T) {
	byMsg := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
	plain := apierrors.NewTooManyRequests("too many requests", 1)
	other := &apierrors.StatusError{ErrStatus: metav1.Status{Code: http.StatusInternalServerError, Message: "disruption budget"}}
	if !isDisruptionBudget(byMsg) || isDisruptionBudget(plain) || isDisruptionBudget(other) || isDisruptionBudget(nil) {
		t.Error("disruption budget recognised wrongly")
	}
}
