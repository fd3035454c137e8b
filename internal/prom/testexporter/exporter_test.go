package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time { return f.t }

func TestCounterGrowsByItsRateBetweenScrapes(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1000, 0)}
	s := newStore(clk.now)
	cpu := Series{Name: "container_cpu_usage_seconds_total", Type: "counter", Labels: map[string]string{"pod": "backend-1"}, Value: 10, Rate: 0.85}
	if err := s.set([]Series{cpu}); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(20 * time.Second)
	if got := s.list()[0].Value; got != 27 {
		t.Fatalf("value after 20s = %v, want 10 + 0.85*20 = 27", got)
	}
	cpu.Rate, cpu.Value = 0.2, 0 // a new rate continues from the current value
	if err := s.set([]Series{cpu}); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(10 * time.Second)
	if got := s.list()[0].Value; got != 29 {
		t.Fatalf("value = %v, want 27 + 0.2*10 = 29", got)
	}
}

func TestSetRejectsInconsistentOrInvalidSeries(t *testing.T) {
	s := newStore(time.Now)
	if err := s.set([]Series{{Name: "m", Type: "gauge", Labels: map[string]string{"a": "1"}}}); err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]Series{
		"other label names": {Name: "m", Type: "gauge", Labels: map[string]string{"b": "1"}},
		"other type":        {Name: "m", Type: "counter", Labels: map[string]string{"a": "2"}},
		"bad name":          {Name: "1m", Type: "gauge"},
		"bad type":          {Name: "x", Type: "histogram"},
		"gauge with rate":   {Name: "x", Type: "gauge", Rate: 1},
		"reserved label":    {Name: "x", Type: "gauge", Labels: map[string]string{"__name__": "y"}},
	} {
		if err := s.set([]Series{x}); err == nil {
			t.Errorf("%s: accepted %+v", name, x)
		}
	}
}

func TestControlEndpointFeedsMetrics(t *testing.T) {
	srv := httptest.NewServer(newHandler(newStore(time.Now)))
	defer srv.Close()
	body := `[{"name":"kube_pod_container_resource_requests","type":"gauge","labels":{"namespace":"ns","pod":"backend-0","resource":"cpu"},"value":1}]`
	resp, err := http.Post(srv.URL+"/control/series", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("set: %v %v", err, resp.Status)
	}
	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(text, []byte(`kube_pod_container_resource_requests{namespace="ns",pod="backend-0",resource="cpu"} 1`)) {
		t.Fatalf("metrics:\n%s", text)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/control/series", strings.NewReader(`[]`))
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete: %v", err)
	}
	resp, _ = http.Get(srv.URL + "/metrics")
	text, _ = io.ReadAll(resp.Body)
	if bytes.Contains(text, []byte("kube_pod_container")) {
		t.Fatalf("series still exported after delete:\n%s", text)
	}
}
