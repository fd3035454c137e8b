package recall_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/recall"
)

func open(t *testing.T, path string, limit int) *recall.File {
	t.Helper()
	f, err := recall.Open(path, limit)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return f
}

func add(t *testing.T, f *recall.File, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if _, err := f.Add(l); err != nil {
			t.Fatalf("Add(%q): %v", l, err)
		}
	}
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestHistoryOutlivesTheSession(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat-history")
	first := open(t, path, 500)
	if got := first.Entries(); len(got) != 0 {
		t.Fatalf("a new history has entries %q", got)
	}
	add(t, first, "check system health", "why did you scale backend?")
	second := open(t, path, 500)
	add(t, second, "and for frontend?")
	want := []string{"check system health", "why did you scale backend?", "and for frontend?"}
	if got := second.Entries(); !reflect.DeepEqual(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
}

func TestHistoryKeepsTheNewestEntries(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		add   []string
		want  []string
	}{
		{"under the limit", 3, []string{"a", "b"}, []string{"a", "b"}},
		{"at the limit", 3, []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"over the limit", 3, []string{"a", "b", "c", "d", "e"}, []string{"c", "d", "e"}},
		{"a repeat is one entry", 3, []string{"a", "b", "b", "b"}, []string{"a", "b"}},
		{"blank and multi-line", 3, []string{"  ", "x\ny", "\tz "}, []string{"x y", "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chat-history")
			f := open(t, path, tt.limit)
			add(t, f, tt.add...)
			if got := f.Entries(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("entries = %q, want %q", got, tt.want)
			}
			if got := fileLines(t, path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("file = %q, want %q", got, tt.want)
			}
			if got := open(t, path, tt.limit).Entries(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reopened entries = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrimKeepsWhatAnotherSessionAdded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat-history")
	a, b := open(t, path, 3), open(t, path, 3)
	add(t, a, "a1", "a2")
	add(t, b, "b1", "b2") // the file now holds 4 lines; b trims to 3
	add(t, a, "a3")
	want := []string{"b1", "b2", "a3"}
	if got := fileLines(t, path); !reflect.DeepEqual(got, want) {
		t.Errorf("file = %q, want %q", got, want)
	}
}

func TestHistoryIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "chat-history")
	add(t, open(t, path, 500), "check system health")
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s mode = %o, want %o", c.path, got, c.want)
		}
	}

	shared := filepath.Join(t.TempDir(), "chat-history")
	if err := os.WriteFile(shared, []byte("status of frontend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	open(t, shared, 500)
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("a world-readable history was not made private: %v %v", fi.Mode(), err)
	}

	trimmed := filepath.Join(t.TempDir(), "chat-history")
	add(t, open(t, trimmed, 1), "a", "b") // the trim rewrites the file
	if fi, err := os.Stat(trimmed); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("a trimmed history is not private: %v %v", fi.Mode(), err)
	}
}

func TestSecretLinesAreNeverKept(t *testing.T) {
	secrets := []string{
		"use token=abc123def for the API",
		"the password=hunter2",
		"curl -H 'Authorization: Bearer abcdefgh12345678' http://backend",
		"set LLM key " + "sk-" + "proj-FAKE0000000000000000", // built at run time: no key-shaped literal
		"connect to postgres://app:pa55w0rd@db:5432/app",
	}
	path := filepath.Join(t.TempDir(), "chat-history")
	f := open(t, path, 500)
	for _, s := range secrets {
		kept, err := f.Add(s)
		if err != nil || kept {
			t.Errorf("Add(%q) = %v, %v; want not kept", s, kept, err)
		}
	}
	add(t, f, "status of frontend")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"abc123def", "hunter2", "abcdefgh12345678", "sk-proj", "pa55w0rd"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the history file holds %q:\n%s", leak, b)
		}
	}
	if got := f.Entries(); !reflect.DeepEqual(got, []string{"status of frontend"}) {
		t.Errorf("entries = %q", got)
	}
}

func TestSecretLinesInTheFileAreNotRecalled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat-history")
	if err := os.WriteFile(path, []byte("check health\npassword=hunter2\nstatus of frontend\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{"check health", "status of frontend"}
	if got := open(t, path, 500).Entries(); !reflect.DeepEqual(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
}

func TestOpenRefusesABadLimit(t *testing.T) {
	if _, err := recall.Open(filepath.Join(t.TempDir(), "h"), 0); err == nil {
		t.Error("Open with limit 0: want an error")
	}
}
