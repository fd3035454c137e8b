// Command chdbfront serves the ClickHouse HTTP interface, enough of it for
// clickhouse-go's HTTP protocol, on top of chDB (ClickHouse as a library,
// libchdb.so). It exists only for the integration tests of ops-skill: the
// current ClickHouse engine ships here as a library without a server.
//
// Each request's query (the "query" URL parameter followed by the body, as the
// real server does) is passed to chdb_query_n in the requested default format,
// with the request's query-level settings; Native output is laid out for the
// client_protocol_version the client announced (see package native);
// an engine error becomes HTTP 500 with the X-ClickHouse-Exception-Code header
// and the "Code: N. DB::Exception: ..." text as body. /ping answers "Ok.".
// Unsupported request parameters are refused with HTTP 400 rather than
// ignored, so a test never passes on a silently dropped setting.
//
// It binds loopback only and writes the chosen port to -port-file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/duet-company/ops-skill/scripts/testenv/chdbfront/native"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	portFile := flag.String("port-file", "", "file to write the chosen port to")
	path := flag.String("path", "", "data directory of the engine")
	version := flag.Bool("version", false, "print the engine version and exit")
	flag.Parse()
	if *version {
		fmt.Println(engineVersion())
		return
	}
	if err := run(*listen, *portFile, *path, flag.Args()); err != nil {
		log.Fatalf("chdbfront: %v", err)
	}
}

func run(listen, portFile, path string, extra []string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", listen)
	}
	if path == "" {
		return errors.New("-path is required")
	}
	eng, err := openEngine(append([]string{"--path=" + path}, extra...))
	if err != nil {
		return err
	}
	defer eng.close()
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
	srv := &http.Server{Handler: handler(eng), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("chdbfront: engine %s serving on 127.0.0.1:%d", engineVersion(), port)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ignoredParams are sent by clients and have no effect here: the output format
// and database are handled, the rest only label the request. Every other
// parameter is a query-level setting.
var ignoredParams = map[string]bool{
	"query": true, "default_format": true, "database": true, "client_protocol_version": true,
	"query_id": true, "quota_key": true,
}

// refusedParams change the HTTP exchange itself, which this front cannot do.
var refusedParams = map[string]bool{"compress": true, "decompress": true, "enable_http_compression": true, "session_id": true}

var settingRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,127}$`)

// requestSettings returns the query-level settings of a request, or an error
// for a parameter this front cannot honour.
func requestSettings(params map[string][]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range params {
		switch {
		case ignoredParams[k]:
		case refusedParams[k] || strings.HasPrefix(k, "param_") || !settingRe.MatchString(k):
			return nil, fmt.Errorf("chdbfront: parameter %q is not supported by this test front", k)
		default:
			out[k] = v[0]
		}
	}
	return out, nil
}

func handler(eng *engine) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "Ok.\n") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		params := r.URL.Query()
		settings, err := requestSettings(params)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, "chdbfront: read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		q := params.Get("query")
		if len(body) > 0 {
			if q != "" {
				q += "\n"
			}
			q += string(body)
		}
		if strings.TrimSpace(q) == "" {
			_, _ = io.WriteString(w, "Ok.\n")
			return
		}
		format := params.Get("default_format")
		if format == "" {
			format = "TabSeparated"
		}
		db := params.Get("database")
		if db == "default" {
			db = ""
		}
		out, err := eng.query(db, settings, []byte(q), format)
		if err == nil && format == "Native" {
			out, err = rewriteNative(out, params.Get("client_protocol_version"))
		}
		if err != nil {
			writeException(w, err.Error())
			return
		}
		_, _ = w.Write(out)
	})
	return mux
}

// rewriteNative lays Native output out for the client's protocol revision, as
// the server does for the client_protocol_version parameter.
func rewriteNative(out []byte, revision string) ([]byte, error) {
	if revision == "" {
		return out, nil
	}
	rev, err := strconv.ParseUint(revision, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad client_protocol_version %q", revision)
	}
	return native.Rewrite(out, rev)
}

var codeRe = regexp.MustCompile(`Code:\s*(\d+)\.`)

// writeException answers like the server does for an exception raised before
// any output: HTTP 500, the code in a header, the text as body.
func writeException(w http.ResponseWriter, msg string) {
	if m := codeRe.FindStringSubmatch(msg); m != nil {
		w.Header().Set("X-ClickHouse-Exception-Code", m[1])
	} else {
		msg = "Code: 1000. DB::Exception: " + msg
		w.Header().Set("X-ClickHouse-Exception-Code", "1000")
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, strings.TrimSpace(msg)+"\n")
}

// quoteIdent quotes an identifier with backquotes.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "`", "\\`") + "`"
}

// quoteString quotes a string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
