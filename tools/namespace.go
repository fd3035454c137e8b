package tools

import (
	"bytes"
	"encoding/json"
	"slices"
)

// WithNamespace returns the arguments raw of a call to the tool s describes
// with "namespace" set to ns when the call names none and the tool takes one
// that is required, or the call names a workload ("name"): as with kubectl, a
// workload named without a namespace is in the current one. Anything else
// (ns empty, raw not a JSON object, a namespace given, even null) comes back
// unchanged, for the decoder to judge. The rest of raw is kept byte for byte,
// so a key given twice is still refused.
func (s Spec) WithNamespace(raw json.RawMessage, ns string) json.RawMessage {
	var sc struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if ns == "" || json.Unmarshal(s.Parameters, &sc) != nil {
		return raw
	}
	if _, takes := sc.Properties["namespace"]; !takes {
		return raw
	}
	body := bytes.TrimSpace(raw)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		body = []byte("{}")
	}
	keys, ok := topLevelKeys(body)
	if !ok || slices.Contains(keys, "namespace") {
		return raw
	}
	if !slices.Contains(s.Required, "namespace") && !slices.Contains(keys, "name") {
		return raw
	}
	field, _ := json.Marshal(ns)
	out := append([]byte(`{"namespace":`), field...)
	if rest := bytes.TrimSpace(body[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[1:]...)
}

// topLevelKeys lists the keys of a JSON object, or reports it is not one.
func topLevelKeys(raw []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		keys = append(keys, key)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, false
		}
	}
	return keys, true
}
