package health

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// stepWhileWaiting moves the fake clock one interval each time the check
// waits on it, until done.
func stepWhileWaiting(clk interface {
	HasWaiters() bool
	Step(time.Duration)
}, done <-chan struct{}, onStep func()) {
	for {
		select {
		case <-done:
			return
		default:
		}
		if clk.HasWaiters() {
			onStep()
			clk.Step(30 * time.Second)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConfirmingProbesAFailureUntilTheThresholdOrAPass: a failing service
// is checked again each interval until it failed three times in a row; one
// that recovers meanwhile stops the confirmation with a pass; a passing one
// is checked once; cancellation ends the wait.
func TestConfirmingProbesAFailureUntilTheThresholdOrAPass(t *testing.T) {
	tests := []struct {
		name       string
		recoverAt  int // the probe (1-based) from which the service answers 200; 0: never
		wantOK     bool
		wantFails  int
		wantProbes int
	}{
		{"failing: confirmed three times", 0, false, 3, 3},
		{"recovers on the second probe", 2, true, 0, 2},
		{"passing: checked once", 1, true, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, url := httpService(t, http.StatusServiceUnavailable)
			if tt.recoverAt == 1 {
				svc.status.Store(http.StatusOK)
			}
			c, clk := checker(t, Matrix{{Service: "frontend", Type: HTTP, Target: url}})
			probes := 1
			done := make(chan struct{})
			go stepWhileWaiting(clk, done, func() {
				probes++
				if probes == tt.recoverAt {
					svc.status.Store(http.StatusOK)
				}
			})
			res, err := Confirming{Checker: c, Threshold: 3}.Check(context.Background(), "frontend")
			close(done)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.wantOK || res.ConsecutiveFailures != tt.wantFails || probes != tt.wantProbes {
				t.Errorf("ok %v, %d consecutive failures after %d probes; want ok %v, %d after %d",
					res.OK, res.ConsecutiveFailures, probes, tt.wantOK, tt.wantFails, tt.wantProbes)
			}
			if want := t0.Add(time.Duration(tt.wantProbes-1) * 30 * time.Second); !res.At.Equal(want) {
				t.Errorf("last probe at %s, want %s (one interval apart)", res.At, want)
			}
		})
	}
	t.Run("cancelled while confirming", func(t *testing.T) {
		_, url := httpService(t, http.StatusServiceUnavailable)
		c, clk := checker(t, Matrix{{Service: "frontend", Type: HTTP, Target: url}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			for !clk.HasWaiters() {
				time.Sleep(time.Millisecond)
			}
			cancel()
			close(done)
		}()
		_, err := Confirming{Checker: c, Threshold: 3}.Check(ctx, "frontend")
		<-done
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	})
}
