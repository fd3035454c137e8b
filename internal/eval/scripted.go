package eval

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/openai"
	"github.com/duet-company/ops-skill/internal/llm/scripted"
)

// ScriptedPrefix starts a --model value that names scripted models.
const ScriptedPrefix = "scripted:"

// DefaultModelDir is where scripted models are looked up by name: empty, the
// built-in models (see Models).
const DefaultModelDir = ""

// ErrNoModel means a scripted model spec names no file.
var ErrNoModel = errors.New("no scripted model")

// loopbackKey is the made-up key the loopback server requires, so the
// adapter's authentication is exercised as with a real provider.
const loopbackKey = "sk-loopback-scripted"

// ScriptedModels resolves spec (what follows "scripted:") to scripted models:
// a file path, a name looked up as NAME.yaml, or a glob such as "*" or
// "ideal-*", in dir or, when dir is empty, among the built-in models. Each
// model is served on loopback in the OpenAI wire format and driven through
// the real go-openai adapter.
func ScriptedModels(spec, dir string) ([]Model, error) {
	if spec == "" {
		return nil, fmt.Errorf("%w: give a file, a name or a glob after %q", ErrNoModel, ScriptedPrefix)
	}
	if st, err := os.Stat(spec); err == nil && !st.IsDir() {
		m, err := ScriptedModel(spec)
		if err != nil {
			return nil, err
		}
		return []Model{m}, nil
	}
	fsys, where := Models(), "the built-in models"
	if dir != "" {
		fsys, where = os.DirFS(dir), dir
	}
	paths, err := scriptPaths(fsys, spec, where)
	if err != nil {
		return nil, err
	}
	out := make([]Model, 0, len(paths))
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read script: %w", err)
		}
		script, err := scripted.ParseScript(data)
		if err != nil {
			return nil, fmt.Errorf("script %s: %w", path.Join(where, p), err)
		}
		out = append(out, scriptedModel(script, p))
	}
	return out, nil
}

func scriptPaths(fsys fs.FS, spec, where string) ([]string, error) {
	pattern := spec
	if !strings.ContainsAny(spec, "*?[") {
		pattern += ".yaml"
	}
	paths, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("scripted model %q: %w", spec, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w matches %q (looked for %s in %s): %w", ErrNoModel, spec, pattern, where, fs.ErrNotExist)
	}
	sort.Strings(paths)
	return paths, nil
}

// ScriptedModel loads one scripted model file.
func ScriptedModel(path string) (Model, error) {
	script, err := scripted.LoadScript(path)
	if err != nil {
		return Model{}, err
	}
	return scriptedModel(script, path), nil
}

// scriptedModel names the model after the script, or else after its file.
func scriptedModel(script *scripted.ScriptFile, file string) Model {
	name := script.Name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return Model{Name: ScriptedPrefix + name, Open: func(context.Context) (Session, error) {
		return openScripted(script, name)
	}}
}

// openScripted starts a fresh server for one run, so the script starts from
// its first step.
func openScripted(script *scripted.ScriptFile, name string) (Session, error) {
	srv, err := scripted.Start(script, scripted.WithAPIKey(loopbackKey))
	if err != nil {
		return Session{}, err
	}
	c, err := openai.New(openai.Config{Provider: "openai", Model: "scripted-" + name, APIKey: loopbackKey, BaseURL: srv.URL()},
		openai.WithBackoff(func(int) time.Duration { return 0 }))
	if err != nil {
		srv.Close()
		return Session{}, err
	}
	rejected := func() []string {
		var out []string
		for _, r := range srv.Rejected() {
			out = append(out, fmt.Sprintf("request %d: %s", r.Index, r.Rejection))
		}
		return out
	}
	return Session{Client: c, Rejected: rejected, Close: srv.Close}, nil
}
