// Command workload is the test stack's live workload model: it watches the
// local cluster's Deployments, StatefulSets and pods (client-go informers) and
// publishes, on a Prometheus scrape endpoint, the series ops-skill's metric
// templates read (cAdvisor, kube-state-metrics, kubelet volume stats, HTTP
// metrics), computed from a load model and each workload's real state. A
// workload's CPU demand is shared by its ready pods, so scaling backend from 3
// to 4 lowers each pod's CPU once the API server reports the fourth pod ready.
// A container whose memory demand is over its limit is OOM-killed: its
// restart count and last termination (OOMKilled) are written to the pod's
// status, as a kubelet would (kwok does not).
//
// The load comes from a scenario (JSON, see Scenario) given with -scenario and
// changed at run time over HTTP:
//
//	GET    /metrics                         the exposition Prometheus scrapes
//	GET    /scenario                        the scenario as JSON
//	PUT    /scenario                        replace it (a Scenario)
//	POST   /scenario/workloads              add or replace one workload's load (a Load)
//	DELETE /scenario/workloads?namespace=&name=   stop modelling one workload
//	GET    /healthz                         200 once the informers have synced
//
// Started by scripts/testenv/workload.sh; test code only, never in the binary.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to watch")
	scenarioFile := flag.String("scenario", "", "scenario JSON file (empty: no workload modelled)")
	flag.Parse()
	if err := run(*listen, *kubeconfig, *scenarioFile); err != nil {
		log.Fatal(err)
	}
}

func run(listen, kubeconfig, scenarioFile string) error {
	var s Scenario
	if scenarioFile != "" {
		b, err := os.ReadFile(scenarioFile)
		if err != nil {
			return err
		}
		if err := decodeStrict(b, &s); err != nil {
			return fmt.Errorf("%s: %w", scenarioFile, err)
		}
		if err := s.validate(); err != nil {
			return fmt.Errorf("%s: %w", scenarioFile, err)
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = 20, 40
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := informers.NewSharedInformerFactory(cs, 0)
	w := newWatcher(f)
	f.Start(ctx.Done())
	synced := make(chan struct{})
	go func() {
		f.WaitForCacheSync(ctx.Done())
		close(synced)
	}()
	srv := &server{model: NewModel(s, time.Now()), watch: w, synced: synced}
	go func() {
		<-synced
		(&kubelet{cs: cs, model: srv.model, watch: w, every: 2 * time.Second}).run(ctx)
	}()
	hs := &http.Server{Addr: listen, Handler: srv.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	log.Printf("workload model on %s", listen)
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

type server struct {
	model  *Model
	watch  *watcher
	synced chan struct{}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, s.model.Render(s.watch.snapshot(), time.Now()))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.synced:
			_, _ = io.WriteString(w, "ok\n")
		default:
			http.Error(w, "informers not synced", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /scenario", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.model.Scenario())
	})
	mux.HandleFunc("PUT /scenario", func(w http.ResponseWriter, r *http.Request) {
		var sc Scenario
		if !decodeBody(w, r, &sc) {
			return
		}
		reply(w, s.model.SetScenario(s.watch.snapshot(), sc, time.Now()))
	})
	mux.HandleFunc("POST /scenario/workloads", func(w http.ResponseWriter, r *http.Request) {
		var l Load
		if !decodeBody(w, r, &l) {
			return
		}
		if err := l.validate(); err != nil {
			reply(w, err)
			return
		}
		reply(w, s.model.Upsert(s.watch.snapshot(), l, time.Now()))
	})
	mux.HandleFunc("DELETE /scenario/workloads", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		reply(w, s.model.Remove(s.watch.snapshot(), q.Get("namespace"), q.Get("name"), time.Now()))
	})
	return mux
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = decodeStrict(b, v)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func reply(w http.ResponseWriter, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
