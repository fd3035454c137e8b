// Package recall keeps the requests typed in `ops-skill chat` in a history
// file, so that a later session recalls them with ↑ as a shell does. The file
// is private (created 0600, in a 0700 directory), holds one request a line,
// oldest first, and keeps only the newest entries (Open's limit). A request
// that looks like it holds a secret (text.LooksSecret) is never written, and
// one found in the file is never recalled.
//
// Several sessions may share the file: each appends its lines with one
// O_APPEND write. Trimming rewrites the file (a temporary file renamed over
// it); a line another session appends during that rewrite may be lost, as
// with a shell's history.
package recall

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/duet-company/ops-skill/internal/text"
)

// MaxEntryBytes bounds one entry; a longer request is not remembered.
const MaxEntryBytes = 16 << 10

// File is the history file of one state directory. It is safe for
// concurrent use.
type File struct {
	path  string
	limit int

	mu      sync.Mutex
	entries []string // oldest first, at most limit
}

// Open reads the history at path, keeping its newest limit entries. A
// missing file is an empty history; it is created by the first Add. A file
// readable by others is made private.
func Open(path string, limit int) (*File, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("open history %s: limit %d is not positive", path, limit)
	}
	f := &File{path: path, limit: limit}
	lines, err := f.read()
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	f.entries = newest(recallable(lines), limit)
	return f, nil
}

// Path is where the history is kept.
func (f *File) Path() string { return f.path }

// Entries returns the history, oldest first.
func (f *File) Entries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.entries...)
}

// Keep reports whether Add would remember line: it is not empty, not too
// long and does not look like it holds a secret.
func Keep(line string) bool {
	line = normalize(line)
	return line != "" && len(line) <= MaxEntryBytes && !text.LooksSecret(line)
}

// Add remembers one request, unless Keep refuses it or it repeats the newest
// entry; it reports whether the line was added. Once the file holds more
// than the limit, it is trimmed to the newest entries. The file is read
// back on each Add (a few kilobytes, once per request typed) so that the
// bound holds with several sessions writing.
func (f *File) Add(line string) (bool, error) {
	line = normalize(line)
	if !Keep(line) {
		return false, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.entries); n > 0 && f.entries[n-1] == line {
		return false, nil
	}
	if err := f.appendLine(line); err != nil {
		return false, fmt.Errorf("add to history %s: %w", f.path, err)
	}
	f.entries = newest(append(f.entries, line), f.limit)
	if err := f.trim(); err != nil {
		return true, fmt.Errorf("trim history %s: %w", f.path, err)
	}
	return true, nil
}

// appendLine appends one line with a single write, creating the file and
// its directory privately when missing.
func (f *File) appendLine(line string) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return err
	}
	w, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := w.WriteString(line + "\n"); err != nil {
		_ = w.Close() // the write's error is the one to report
		return err
	}
	return w.Close()
}

// trim rewrites the file with its newest entries when it holds more than
// the limit (counting what other sessions appended), through a private
// temporary file renamed over it. This session's entries stay as they are.
func (f *File) trim() error {
	lines, err := f.read()
	if err != nil || len(lines) <= f.limit {
		return err
	}
	keep := newest(recallable(lines), f.limit)
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".chat-history-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	var b strings.Builder
	for _, l := range keep {
		b.WriteString(l + "\n")
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return err
	}
	return nil
}

// read returns the file's lines; none when it does not exist. A file others
// may read is made private first.
func (f *File) read() ([]string, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(f.path, 0o600); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(f.path) // bounded: the file is trimmed to the limit
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
}

// normalize makes a request one line without surrounding space.
func normalize(line string) string {
	line = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, line)
	return strings.TrimSpace(line)
}

// recallable drops the lines Keep refuses (a secret written by hand or by
// an older binary is never recalled, and goes at the next trim).
func recallable(lines []string) []string {
	out := lines[:0:0]
	for _, l := range lines {
		if Keep(l) {
			out = append(out, normalize(l))
		}
	}
	return out
}

// newest keeps the last n lines.
func newest(lines []string, n int) []string {
	if len(lines) > n {
		return append([]string(nil), lines[len(lines)-n:]...)
	}
	return lines
}
