package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/duet-company/ops-skill/internal/text"
)

// ErrInvalidArgs marks a call whose arguments could not be decoded or validated.
var ErrInvalidArgs = errors.New("invalid arguments")

// maxArgsBytes bounds the size of one call's arguments.
const maxArgsBytes = 16 << 10

// decodeStrict decodes raw into a new A: unknown fields, wrong types, trailing
// data and oversized input are rejected with a message that names the field
// and lists what is allowed, then Validate runs.
func decodeStrict[A Validator](tool string, raw json.RawMessage) (A, error) {
	var args A
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	if len(raw) > maxArgsBytes {
		return args, fmt.Errorf("%w for %s: %d bytes is over the %d-byte limit", ErrInvalidArgs, tool, len(raw), maxArgsBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&args); err != nil {
		return args, fmt.Errorf("%w for %s: %s", ErrInvalidArgs, tool, explainDecodeError(err, args))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return args, fmt.Errorf("%w for %s: unexpected data after the JSON object", ErrInvalidArgs, tool)
	}
	if err := checkKeys(raw, args); err != nil {
		return args, fmt.Errorf("%w for %s: %w", ErrInvalidArgs, tool, err)
	}
	if err := args.Validate(); err != nil {
		return args, fmt.Errorf("%w for %s: %w", ErrInvalidArgs, tool, err)
	}
	return args, nil
}

func explainDecodeError(err error, args any) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Sprintf("arguments must be a JSON object, got %s", typeErr.Value)
	case errors.As(err, &typeErr):
		// Field is a path through embedded structs ("WorkloadArgs.name"); args
		// are flat, so the JSON name is its last element.
		field := typeErr.Field[strings.LastIndexByte(typeErr.Field, '.')+1:]
		return fmt.Sprintf("field %q must be %s, got %s", field, jsonKind(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("arguments are not valid JSON (offset %d): %v", syntaxErr.Offset, syntaxErr)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return fmt.Sprintf("unknown field %s (allowed: %s)", field, strings.Join(fieldNames(args), ", "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "arguments are truncated JSON"
	}
	return err.Error()
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct || t.Elem().Kind() == reflect.Map {
			return "an array of objects"
		}
	}
	p := typeSchema(t)
	if p.Type == "array" {
		return "an array of " + p.Items.Type
	}
	return "a JSON " + p.Type
}

func fieldNames(args any) []string {
	t := reflect.TypeOf(args)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for _, f := range flatFields(t) {
		if n, _ := jsonName(f); n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// requiredNames lists the JSON names of the fields a call must give: those
// without omitempty. The published schema leaves them out (schemaOf); the
// decoder names each one a call lacks, and Spec keeps them for WithNamespace.
func requiredNames(args any) []string {
	t := reflect.TypeOf(args)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for _, f := range flatFields(t) {
		if n, omit := jsonName(f); n != "" && !omit {
			names = append(names, n)
		}
	}
	return names
}

// checkKeys rejects what encoding/json lets through: a key that matches a field
// only case-insensitively ("Replicas", "NAME"), a key given twice, whose last
// value would silently win over the one a reader of the call sees first, and
// a required field left out or null, which would silently be its zero value
// (a missing "replicas" would scale to 0).
func checkKeys(raw json.RawMessage, args any) error {
	allowed := fieldNames(args)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening brace; Decode has checked the rest
		return nil
	}
	given := map[string]bool{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		if !slices.Contains(allowed, key) {
			return fmt.Errorf("unknown field %q (allowed: %s; names are case-sensitive)", text.Clip(key, 60), strings.Join(allowed, ", "))
		}
		if seen[key] {
			return fmt.Errorf("field %q is given more than once", key)
		}
		seen[key] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil
		}
		given[key] = !bytes.Equal(bytes.TrimSpace(val), []byte("null"))
	}
	var missing []error
	for _, name := range requiredNames(args) {
		if !given[name] {
			missing = append(missing, fmt.Errorf("field %q is required", name))
		}
	}
	return errors.Join(missing...)
}
