package prom

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestDefaultCPUTemplateRendersForAWorkload(t *testing.T) {
	c := newClient(t, Config{URL: "http://x"})
	got, _, err := c.expr(platform.MetricQuery{Metric: platform.MetricCPU, Target: backend})
	if err != nil {
		t.Fatal(err)
	}
	pods := `namespace="ai-data-labs", pod=~"backend-[a-z0-9]{5,10}-[a-z0-9]{5}|backend-[0-9]+"`
	want := `100 * sum(rate(container_cpu_usage_seconds_total{` + pods + `, container!="", container!="POD"}[2m]))` +
		` / sum(last_over_time(kube_pod_container_resource_requests{` + pods + `, resource="cpu"}[1m]))`
	if got != want {
		t.Fatalf("cpu template:\n got %s\nwant %s", got, want)
	}
}

func TestEveryDefaultTemplateNamesTheWorkloadAndItsWindows(t *testing.T) {
	c := newClient(t, Config{URL: "http://x", Window: 45 * time.Second, RateWindow: 90 * time.Second})
	for _, m := range platform.KnownMetrics {
		t.Run(string(m), func(t *testing.T) {
			got, _, err := c.expr(platform.MetricQuery{Metric: m, Target: backend, Step: 5 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, `namespace="ai-data-labs"`) || !strings.Contains(got, "backend-") {
				t.Errorf("%s does not select ai-data-labs/backend: %s", m, got)
			}
			if !strings.Contains(got, "[45s]") && !strings.Contains(got, "[1m30s]") && !strings.Contains(got, "[5m]") {
				t.Errorf("%s uses no configured window: %s", m, got)
			}
		})
	}
}

func TestRestartsCountOverTheStepButAtLeastTheRateWindow(t *testing.T) {
	c := newClient(t, Config{URL: "http://x"})
	for step, want := range map[int64]string{0: "[2m]", 30e9: "[2m]", 600e9: "[10m]"} {
		got, _, err := c.expr(platform.MetricQuery{Metric: platform.MetricRestarts, Target: backend, Step: durationOf(step)})
		if err != nil || !strings.Contains(got, want) {
			t.Errorf("step %d: %s (%v), want window %s", step, got, err, want)
		}
	}
}

func TestDottedNamesAreEscapedInsideThePromQLString(t *testing.T) {
	c := newClient(t, Config{URL: "http://x"})
	got, _, err := c.expr(platform.MetricQuery{Metric: platform.MetricRequests, Target: platform.WorkloadRef{Namespace: "ns", Name: "api.v2"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `pod=~"api\\.v2-[a-z0-9]{5,10}-[a-z0-9]{5}|api\\.v2-[0-9]+"`) {
		t.Fatalf("dots not escaped for PromQL: %s", got)
	}
}

func TestOverrideTemplateIsSent(t *testing.T) {
	f, srv := serve(t, 200, vectorOne)
	c := newClient(t, Config{URL: srv.URL, Templates: map[platform.MetricName]string{
		platform.MetricCPU: `avg(my_cpu{ns="{{.Namespace}}",app="{{.Name}}"}[{{.Window}}])`}})
	if _, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: backend}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].form.Get("query"); got != `avg(my_cpu{ns="ai-data-labs",app="backend"}[1m])` {
		t.Fatalf("query = %s", got)
	}
}

func TestTLSWithTheServersCA(t *testing.T) {
	f := &fakeProm{status: 200, body: vectorOne}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Config{URL: srv.URL, TLS: TLSConfig{CAFile: ca}})
	if _, err := c.Query(context.Background(), platform.MetricQuery{PromQL: "up"}); err != nil {
		t.Fatalf("query over TLS with the server's CA: %v", err)
	}
	untrusted := newClient(t, Config{URL: srv.URL})
	_, err := untrusted.Query(context.Background(), platform.MetricQuery{PromQL: "up"})
	var unknownAuthority x509.UnknownAuthorityError
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a certificate error (%T)", err, unknownAuthority)
	}
}
