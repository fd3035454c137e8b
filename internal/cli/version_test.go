package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var testBuild = BuildInfo{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-20T10:00:00Z",
	GoVersion: "go1.26.8", Platform: "linux/arm64"}

// runVersion runs the command tree with only a stream set: version must need
// no config, store or runtime.
func runVersion(t *testing.T, build BuildInfo, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := NewRoot(&Factory{IO: Test(strings.NewReader(""), &out, &out)}, build)
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestVersionPrintsEveryFieldAsText(t *testing.T) {
	want := "ops-skill version v1.2.3\n" +
		"commit:   0123456789abcdef0123456789abcdef01234567\n" +
		"date:     2026-11-20T10:00:00Z\n" +
		"go:       go1.26.8\n" +
		"platform: linux/arm64\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"version", "-o", "text"}} {
		got, err := runVersion(t, testBuild, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if got != want {
			t.Errorf("%v printed\n%s\nwant\n%s", args, got, want)
		}
	}
}

func TestVersionPrintsOneJSONObject(t *testing.T) {
	got, err := runVersion(t, testBuild, "version", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(got), &fields); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, got)
	}
	want := map[string]string{"version": "v1.2.3", "commit": testBuild.Commit, "date": "2026-11-20T10:00:00Z",
		"goVersion": "go1.26.8", "platform": "linux/arm64"}
	if len(fields) != len(want) {
		t.Errorf("fields %v, want exactly %v", fields, want)
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s = %q, want %q", k, fields[k], v)
		}
	}
}

func TestVersionTextIsNotATemplate(t *testing.T) {
	b := testBuild
	b.Version = "v1.0.0-{{.Name}}"
	got, err := runVersion(t, b, "--version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "ops-skill version v1.0.0-{{.Name}}\n") {
		t.Errorf("--version printed %q", got)
	}
}

func TestVersionRejectsArgumentsAndUnknownFormats(t *testing.T) {
	if _, err := runVersion(t, testBuild, "version", "-o", "yaml"); !isUsage(err) {
		t.Errorf("-o yaml: err %v, want a usage error", err)
	}
	if _, err := runVersion(t, testBuild, "version", "extra"); err == nil {
		t.Errorf("extra argument: err %v, want it refused", err)
	}
}

func isUsage(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Code == ExitUsage
}
