package tools

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// schemaOf derives a compact JSON schema from an args struct. Field names come
// from `json` tags, descriptions from `desc`, enumerations from `enum`
// (comma-separated) and bounds from `min`/`max`.
//
// Every request carries every schema, so what the strict decoder enforces
// anyway, with a message that says how to fix the call, is left out:
// additionalProperties (an unknown field is rejected, naming the allowed
// ones), "required" (a field without omitempty is required: a call without
// it is rejected, naming every missing field; requiredNames) and the type of
// a string (a property without a type is a string: any other value is
// rejected, naming the field and the type it must have). Integers, booleans,
// arrays, enumerations and bounds are kept: a model cannot guess them.
func schemaOf(v any) json.RawMessage {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	b, err := json.Marshal(objectSchema(t))
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %s: %v", t, err)) // programming error, caught by tests
	}
	return b
}

type property struct {
	Type        string    `json:"type,omitempty"` // empty: a string
	Description string    `json:"description,omitempty"`
	Enum        []string  `json:"enum,omitempty"`
	Items       *property `json:"items,omitempty"`
	Minimum     *float64  `json:"minimum,omitempty"`
	Maximum     *float64  `json:"maximum,omitempty"`
}

type object struct {
	Type       string       `json:"type"`
	Properties orderedProps `json:"properties"`
}

// orderedProps keeps the struct's field order in the marshalled schema, so the
// schema (and the golden file of it) is stable and reads in declaration order.
type orderedProps struct {
	names []string
	props map[string]property
}

func (o orderedProps) MarshalJSON() ([]byte, error) {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, n := range o.names {
		if i > 0 {
			sb.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		v, err := json.Marshal(o.props[n])
		if err != nil {
			return nil, err
		}
		sb.Write(k)
		sb.WriteByte(':')
		sb.Write(v)
	}
	sb.WriteByte('}')
	return []byte(sb.String()), nil
}

func objectSchema(t reflect.Type) object {
	o := object{Type: "object", Properties: orderedProps{props: map[string]property{}}}
	for _, f := range flatFields(t) {
		name, _ := jsonName(f)
		if name == "" {
			continue
		}
		o.Properties.names = append(o.Properties.names, name)
		o.Properties.props[name] = fieldSchema(f)
	}
	return o
}

// flatFields lists a struct's fields with embedded structs flattened, as
// encoding/json sees them.
func flatFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			out = append(out, flatFields(f.Type)...)
			continue
		}
		out = append(out, f)
	}
	return out
}

func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	parts := strings.Split(tag, ",")
	name := parts[0]
	if name == "" {
		name = f.Name
	}
	omit := false
	for _, p := range parts[1:] {
		if p == "omitempty" {
			omit = true
		}
	}
	return name, omit
}

func fieldSchema(f reflect.StructField) property {
	p := untypedStrings(typeSchema(f.Type))
	p.Description = f.Tag.Get("desc")
	if e := f.Tag.Get("enum"); e != "" {
		p.Enum = strings.Split(e, ",")
	}
	p.Minimum = floatTag(f, "min")
	p.Maximum = floatTag(f, "max")
	return p
}

// untypedStrings leaves out the type of a string, and of the items of an
// array of strings: the decoder enforces it, and says so when it is not one.
func untypedStrings(p property) property {
	switch {
	case p.Type == "string":
		p.Type = ""
	case p.Type == "array" && p.Items != nil && p.Items.Type == "string":
		p.Items = nil
	}
	return p
}

func floatTag(f reflect.StructField, key string) *float64 {
	s := f.Tag.Get(key)
	if s == "" {
		return nil
	}
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		panic(fmt.Sprintf("tools: bad %s tag %q on %s", key, s, f.Name))
	}
	return &v
}

func typeSchema(t reflect.Type) property {
	switch t.Kind() {
	case reflect.String:
		return property{Type: "string"}
	case reflect.Bool:
		return property{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return property{Type: "integer"}
	case reflect.Float32, reflect.Float64:
		return property{Type: "number"}
	case reflect.Slice:
		item := typeSchema(t.Elem())
		return property{Type: "array", Items: &item}
	}
	panic(fmt.Sprintf("tools: unsupported argument type %s", t))
}
