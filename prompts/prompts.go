// Package prompts holds the embedded prompt templates of ops-skill and renders them.
package prompts

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed system.tmpl
var systemText string

// System is what the system prompt needs to know.
type System struct {
	Namespace  string
	Namespaces []string
	Guardrails string
	Settle     string
	Mode       string
}

// RenderSystem renders the system prompt.
func RenderSystem(s System) (string, error) {
	t, err := template.New("system").Option("missingkey=error").Parse(systemText)
	if err != nil {
		return "", fmt.Errorf("parse system prompt: %w", err)
	}
	data := struct {
		System
		Namespaces string
	}{s, strings.Join(s.Namespaces, ", ")}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render system prompt: %w", err)
	}
	return strings.TrimSpace(b.String()), nil
}
