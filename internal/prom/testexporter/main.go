// Command testexporter is the metrics exporter of ops-skill's integration
// tests: Prometheus scrapes it like a cAdvisor / kube-state-metrics / HTTP
// service exporter, and the tests set its series through a control endpoint.
//
//	GET    /metrics          the series, in the Prometheus text format
//	POST   /control/series   add or replace series: [{"name","type","labels","value","rate"}]
//	DELETE /control/series   remove the listed series (an empty list removes all)
//	GET    /control/series   the series with their current values
//
// A counter grows by its rate per second between scrapes, so rate() over it
// is exact. The exporter binds loopback only and writes its port to -port-file.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	portFile := flag.String("port-file", "", "file to write the chosen port to")
	flag.Parse()
	if err := run(*listen, *portFile); err != nil {
		log.Fatalf("testexporter: %v", err)
	}
}

func run(listen, portFile string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if portFile != "" {
		if err := os.WriteFile(portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: newHandler(newStore(time.Now)), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("testexporter: serving on 127.0.0.1:%d", port)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newHandler(s *store) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	mux.HandleFunc("GET /control/series", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.list()) })
	mux.HandleFunc("POST /control/series", func(w http.ResponseWriter, r *http.Request) {
		in, ok := readSeries(w, r)
		if !ok {
			return
		}
		if err := s.set(in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]int{"set": len(in)})
	})
	mux.HandleFunc("DELETE /control/series", func(w http.ResponseWriter, r *http.Request) {
		in, ok := readSeries(w, r)
		if !ok {
			return
		}
		writeJSON(w, map[string]int{"removed": s.remove(in)})
	})
	return mux
}

func readSeries(w http.ResponseWriter, r *http.Request) ([]Series, bool) {
	var in []Series
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(&in)
	}
	if err != nil {
		http.Error(w, "bad series list: "+err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return in, true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
