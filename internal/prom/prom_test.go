package prom

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestQueryMapsEveryFailureToAKind(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		metric platform.MetricName // "" means raw PromQL
		kind   error
		typ    string
		msg    string
	}{
		{"bad query is rejected", 400, `{"status":"error","errorType":"bad_data","error":"parse error: unexpected end of input"}`, "", ErrBadQuery, "bad_data", "parse error"},
		{"execution error", 422, `{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}`, "", ErrExecution, "execution", "many-to-many"},
		{"server unavailable", 503, `Service Unavailable`, platform.MetricCPU, platform.ErrUnavailable, "server_error", "503"},
		{"server error", 500, `oops`, platform.MetricCPU, platform.ErrUnavailable, "server_error", "500"},
		{"timeout envelope", 200, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`, platform.MetricCPU, platform.ErrUnavailable, "timeout", "timed out"},
		{"bad credentials", 401, `Unauthorized`, platform.MetricCPU, ErrUnauthorized, "client_error", "401"},
		{"forbidden even over GET", 403, `Forbidden`, platform.MetricCPU, ErrUnauthorized, "client_error", "403"},
		{"not JSON", 200, `<html>proxy login</html>`, platform.MetricCPU, platform.ErrUnavailable, "bad_response", "bad answer"},
		{"named metric without data", 200, vectorEmpty, platform.MetricCPU, ErrNoData, "", "matched no series"},
		{"named metric with two series", 200, vectorTwo, platform.MetricCPU, ErrTooManySeries, "", "2 series where one was expected"},
		{"named metric with NaN", 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"NaN"]}]}}`, platform.MetricErrorRate, ErrNonFinite, "", "NaN"},
		{"named metric with +Inf", 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"+Inf"]}]}}`, platform.MetricLatencyP99, ErrNonFinite, "", "+Inf"},
		{"named metric with -Inf", 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"-Inf"]}]}}`, platform.MetricMemory, ErrNonFinite, "", "-Inf"},
		{"named metric with warnings", 200, `{"status":"success","warnings":["partial data: store unreachable"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"1"]}]}}`, platform.MetricCPU, ErrWarnings, "", "partial data"},
		{"string result", 200, `{"status":"success","data":{"resultType":"string","result":[1767268800,"x"]}}`, "", ErrBadQuery, "bad_response", "returns a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := serve(t, tc.status, tc.body)
			c := newClient(t, Config{URL: srv.URL})
			q := platform.MetricQuery{Metric: tc.metric, Target: backend}
			if tc.metric == "" {
				q = platform.MetricQuery{PromQL: "up"}
			}
			_, err := c.Query(context.Background(), q)
			var e *Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) {
				t.Fatalf("err = %v, want kind %v as *Error", err, tc.kind)
			}
			if e.Type != tc.typ || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q (type %q), want type %q and %q in the message", err, e.Type, tc.typ, tc.msg)
			}
		})
	}
}

func TestQueryTimesOutAsUnavailable(t *testing.T) {
	f, srv := serve(t, 200, vectorOne)
	f.hang = true
	c := newClient(t, Config{URL: srv.URL, Timeout: 50 * time.Millisecond})
	_, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: backend})
	if !errors.Is(err, platform.ErrUnavailable) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want unavailable with timeout", err)
	}
}

func TestQueryOfAStoppedServerIsUnavailable(t *testing.T) {
	_, srv := serve(t, 200, vectorOne)
	srv.Close()
	c := newClient(t, Config{URL: "http://user:s3cret@" + strings.TrimPrefix(srv.URL, "http://")})
	_, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: backend})
	if !errors.Is(err, platform.ErrUnavailable) || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestQueryCallerCancellationIsNotUnavailable(t *testing.T) {
	f, srv := serve(t, 200, vectorOne)
	f.hang = true
	c := newClient(t, Config{URL: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Query(ctx, platform.MetricQuery{PromQL: "up"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("err = %v, want context.Canceled only", err)
	}
}

func TestQueryPostsTheRenderedTemplateWithTimeAndTimeout(t *testing.T) {
	f, srv := serve(t, 200, vectorOne)
	c := newClient(t, Config{URL: srv.URL, BearerToken: "tok", Timeout: 1500 * time.Millisecond})
	res, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: backend})
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Sample{T: t0, V: 85.5}
	if len(res.Series) != 1 || len(res.Series[0].Samples) != 1 || res.Series[0].Samples[0] != want {
		t.Fatalf("result = %+v, want one sample %+v", res, want)
	}
	r := f.requests()
	if len(r) != 1 {
		t.Fatalf("%d requests, want 1", len(r))
	}
	got := r[0]
	if got.method != http.MethodPost || got.path != "/api/v1/query" || got.auth != "Bearer tok" {
		t.Errorf("request %s %s auth %q, want POST /api/v1/query with the bearer token", got.method, got.path, got.auth)
	}
	if got.form.Get("time") != "1767268800" || got.form.Get("timeout") != "1s" {
		t.Errorf("time=%q timeout=%q, want the clock's now and a whole-second timeout", got.form.Get("time"), got.form.Get("timeout"))
	}
	if !strings.Contains(got.form.Get("query"), `container_cpu_usage_seconds_total{namespace="ai-data-labs"`) {
		t.Errorf("query = %s, want the cpu template for ai-data-labs/backend", got.form.Get("query"))
	}
	if s := c.Stats(); s.Queries != 1 || s.Requests != 1 {
		t.Errorf("stats = %+v, want 1 query in 1 request", s)
	}
}

func TestQuerySendsBasicAuthFromTheURL(t *testing.T) {
	f, srv := serve(t, 200, vectorOne)
	c := newClient(t, Config{URL: "http://ops:pw@" + strings.TrimPrefix(srv.URL, "http://")})
	if _, err := c.Query(context.Background(), platform.MetricQuery{PromQL: "up"}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].auth; got != "Basic b3BzOnB3" {
		t.Fatalf("auth = %q, want basic ops:pw", got)
	}
}

func TestRangeQueryReturnsEverySampleWithItsTime(t *testing.T) {
	f, srv := serve(t, 200, matrixOne)
	c := newClient(t, Config{URL: srv.URL})
	res, err := c.Query(context.Background(), platform.MetricQuery{PromQL: "x", Start: t0.Add(-time.Minute), End: t0, Step: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := []platform.Sample{{T: t0.Add(-time.Minute), V: 81}, {T: t0.Add(-30 * time.Second), V: 82.5}, {T: t0, V: 84}}
	if len(res.Series) != 1 || len(res.Series[0].Samples) != 3 || res.Series[0].Labels["job"] != "x" {
		t.Fatalf("result = %+v", res)
	}
	for i, s := range res.Series[0].Samples {
		if s != want[i] {
			t.Errorf("sample %d = %+v, want %+v", i, s, want[i])
		}
	}
	form := f.requests()[0].form
	if f.requests()[0].path != "/api/v1/query_range" || form.Get("start") != "1767268740" || form.Get("end") != "1767268800" || form.Get("step") != "30" {
		t.Errorf("range request %s %v", f.requests()[0].path, form)
	}
}

func TestRawPromQLReportsOddAnswersAsWarnings(t *testing.T) {
	cases := []struct {
		name, body, want string
		series           int
	}{
		{"empty", vectorEmpty, "matched no series", 0},
		{"NaN", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"NaN"]}]}}`, "1 NaN/Inf samples", 1},
		{"warnings", `{"status":"success","warnings":["w1"],"infos":["i1"],"data":{"resultType":"scalar","result":[1767268800,"2"]}}`, "w1", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := serve(t, 200, tc.body)
			c := newClient(t, Config{URL: srv.URL})
			res, err := c.Query(context.Background(), platform.MetricQuery{PromQL: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Series) != tc.series || !strings.Contains(strings.Join(res.Warnings, "|"), tc.want) {
				t.Fatalf("result = %+v, want %d series and warning %q", res, tc.series, tc.want)
			}
			if tc.name == "NaN" && !math.IsNaN(res.Series[0].Samples[0].V) {
				t.Fatalf("NaN sample not kept: %+v", res.Series[0].Samples)
			}
		})
	}
}

func TestRawPromQLOverTheSeriesLimitFails(t *testing.T) {
	_, srv := serve(t, 200, vectorTwo)
	c := newClient(t, Config{URL: srv.URL, MaxSeries: 1})
	_, err := c.Query(context.Background(), platform.MetricQuery{PromQL: "x"})
	if !errors.Is(err, ErrTooManySeries) {
		t.Fatalf("err = %v, want ErrTooManySeries", err)
	}
}

func TestQueryRefusesBadInputWithoutARequest(t *testing.T) {
	cases := []struct {
		name string
		q    platform.MetricQuery
		msg  string
	}{
		{"injected namespace", platform.MetricQuery{Metric: platform.MetricCPU, Target: platform.WorkloadRef{Namespace: `x"} or vector(1) #`, Name: "b"}}, "not a Kubernetes name"},
		{"uppercase name", platform.MetricQuery{Metric: platform.MetricCPU, Target: platform.WorkloadRef{Namespace: "ns", Name: "Backend"}}, "not a Kubernetes name"},
		{"unknown metric", platform.MetricQuery{Metric: "iops", Target: backend}, "unknown metric"},
		{"metric and promql", platform.MetricQuery{Metric: platform.MetricCPU, PromQL: "up", Target: backend}, "not both"},
		{"nothing", platform.MetricQuery{}, "empty query"},
		{"injected claim", platform.MetricQuery{Metric: platform.MetricDiskUsage, Target: backend, Volume: `x"} or vector(1) #`}, "not a Kubernetes name"},
		{"start after end", platform.MetricQuery{PromQL: "up", Start: t0, End: t0.Add(-time.Minute)}, "not before its end"},
		{"too many points", platform.MetricQuery{PromQL: "up", Start: t0.Add(-24 * time.Hour), End: t0, Step: time.Second}, "exceeds 11000 points"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := serve(t, 200, vectorOne)
			c := newClient(t, Config{URL: srv.URL})
			_, err := c.Query(context.Background(), tc.q)
			if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrBadQuery with %q", err, tc.msg)
			}
			if n := len(f.requests()); n != 0 {
				t.Fatalf("%d requests sent, want none", n)
			}
		})
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		msg  string
	}{
		{"no url", Config{}, "must be http(s)"},
		{"wrong scheme", Config{URL: "tcp://x:9090"}, "must be http(s)"},
		{"override of an unknown metric", Config{URL: "http://x", Templates: map[platform.MetricName]string{"iops": "up"}}, `"iops": unknown metric`},
		{"unparsable override", Config{URL: "http://x", Templates: map[platform.MetricName]string{platform.MetricCPU: "{{.Name"}}, "cpu_utilization"},
		{"override with an unknown variable", Config{URL: "http://x", Templates: map[platform.MetricName]string{platform.MetricCPU: "{{.Workload}}"}}, "Workload"},
		{"cert without key", Config{URL: "https://x", TLS: TLSConfig{CertFile: "c.pem"}}, "set together"},
		{"missing ca file", Config{URL: "https://x", TLS: TLSConfig{CAFile: "/nonexistent/ca.pem"}}, "ca file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestServerTimeoutIsParsableByPrometheus(t *testing.T) {
	for in, want := range map[time.Duration]string{1500 * time.Millisecond: "1s", 10 * time.Second: "10s", 250 * time.Millisecond: "250ms", time.Microsecond: "1ms"} {
		if got := serverTimeout(in).String(); got != want {
			t.Errorf("serverTimeout(%s) = %s, want %s", in, got, want)
		}
	}
}

// A volume query reads the one claim it names, not every claim of the workload.
func TestAVolumeQueryNarrowsTheClaimMatcher(t *testing.T) {
	f, srv := serve(t, 200, vectorOne)
	c := newClient(t, Config{URL: srv.URL})
	if _, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricDiskUsage, Target: backend, Volume: "data.backend-0"}); err != nil {
		t.Fatal(err)
	}
	if q := f.requests()[0].form.Get("query"); !strings.Contains(q, `persistentvolumeclaim=~"data\\.backend-0"`) {
		t.Errorf("query = %s, want the claim alone (dots escaped)", q)
	}
}
