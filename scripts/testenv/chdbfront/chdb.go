package main

/*
#cgo LDFLAGS: -lchdb
#include <stdlib.h>
#include <stddef.h>

// The few declarations of chdb.h this front needs (the npm package ships the
// library without its header).
typedef struct chdb_result_ { void *internal_data; } chdb_result;
typedef struct chdb_connection_ { void *internal_data; } *chdb_connection;

chdb_connection *chdb_connect(int argc, char **argv);
void chdb_close_conn(chdb_connection *conn);
chdb_result *chdb_query_n(chdb_connection conn, const char *query, size_t query_len, const char *format, size_t format_len);
void chdb_destroy_query_result(chdb_result *result);
char *chdb_result_buffer(chdb_result *result);
size_t chdb_result_length(chdb_result *result);
const char *chdb_result_error(chdb_result *result);
const char *chdb_version(void);
*/
import "C"

import (
	"errors"
	"strings"
	"sync"
	"unsafe"
)

// engine is one chDB connection. chDB runs one statement at a time per
// connection, so every query holds the mutex.
type engine struct {
	mu   sync.Mutex
	conn *C.chdb_connection
}

// openEngine boots the engine with clickhouse-local style arguments such as
// --path=DIR.
func openEngine(args []string) (*engine, error) {
	argv := make([]*C.char, 0, len(args)+1)
	argv = append(argv, C.CString("clickhouse"))
	for _, a := range args {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	conn := C.chdb_connect(C.int(len(argv)), (**C.char)(unsafe.Pointer(&argv[0])))
	if conn == nil {
		return nil, errors.New("chdb_connect failed (see stderr)")
	}
	return &engine{conn: conn}, nil
}

// version returns the engine's version string.
func engineVersion() string { return C.GoString(C.chdb_version()) }

// query runs one statement in database db (empty: the current one) with the
// given query-level settings, and returns its output in format, or the
// engine's error text ("Code: N. DB::Exception: ..."). The engine has one
// session, so settings are set for the statement and restored after it, as
// if each request had its own session like on the real server.
func (e *engine) query(db string, settings map[string]string, q []byte, format string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil, errors.New("engine closed")
	}
	if db != "" {
		if _, err := e.run([]byte("USE "+quoteIdent(db)), "TabSeparated"); err != nil {
			return nil, err
		}
		defer e.run([]byte("USE default"), "TabSeparated")
	}
	for name, v := range settings {
		restore, err := e.set(name, v)
		if err != nil {
			return nil, err
		}
		defer e.run([]byte(restore), "TabSeparated")
	}
	return e.run(q, format)
}

// set changes one setting and returns the statement that restores it.
func (e *engine) set(name, v string) (string, error) {
	old, err := e.run([]byte("SELECT value, changed FROM system.settings WHERE name = "+quoteString(name)), "TabSeparated")
	if err != nil {
		return "", err
	}
	restore := "SET " + name + " = DEFAULT"
	if f := strings.Split(strings.TrimRight(string(old), "\n"), "\t"); len(f) == 2 && f[1] == "1" {
		restore = "SET " + name + " = " + quoteString(f[0])
	}
	if _, err := e.run([]byte("SET "+name+" = "+quoteString(v)), "TabSeparated"); err != nil {
		return "", err
	}
	return restore, nil
}

// run executes one statement; the caller holds the mutex.
func (e *engine) run(q []byte, format string) ([]byte, error) {
	cq := C.CBytes(q)
	defer C.free(cq)
	cf := C.CString(format)
	defer C.free(unsafe.Pointer(cf))
	res := C.chdb_query_n(*e.conn, (*C.char)(cq), C.size_t(len(q)), cf, C.size_t(len(format)))
	if res == nil {
		return nil, errors.New("chdb_query_n returned no result")
	}
	defer C.chdb_destroy_query_result(res)
	if msg := C.chdb_result_error(res); msg != nil {
		return nil, errors.New(C.GoString(msg))
	}
	n := C.chdb_result_length(res)
	if n == 0 {
		return nil, nil
	}
	return C.GoBytes(unsafe.Pointer(C.chdb_result_buffer(res)), C.int(n)), nil
}

// close shuts the connection down.
func (e *engine) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		C.chdb_close_conn(e.conn)
		e.conn = nil
	}
}
