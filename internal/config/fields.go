package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// display says how a value is shown by Show and Redacted.
type display int

const (
	showPlain   display = iota
	showSecret          // "***" when set
	showURL             // userinfo password and credential-like query params masked
	showHeaders         // each "Name: value" item shown as "Name: ***"
)

// field describes one configuration key as the struct tags of its Config
// field declare it (see Config): where it lives in the YAML, which
// environment variable and flag set it, and where it is in a Config.
type field struct {
	key      string  // path under operations:, e.g. "auto_scaling.scale_up_threshold"
	env      string  // environment variable, or ""
	flag     string  // pflag name, or ""
	alias    string  // short name accepted by --update-threshold, or ""
	override bool    // may be set by --update-threshold
	percent  bool    // a float that accepts a trailing "%"
	enum     bool    // lower-cased and trimmed before use
	bytes    bool    // an int64 of bytes that accepts quantities
	unused   bool    // accepted and validated, but nothing reads it yet
	show     display // how the value is displayed
	hint     string  // example used in parse-error fixes
	index    []int   // path of the struct field in Config
}

// fields returns every configuration key in display order, the order of the
// Config struct. It is derived from the struct tags on each call (about a
// tenth of a millisecond), not kept in a package variable, so that nothing
// global can be mutated.
func fields() []field {
	fs, err := describe(reflect.TypeFor[Config]())
	if err != nil {
		// The tags are constants of this package, and TestEveryKeyIsDeclaredOnce
		// fails on any problem: this is reached only by an untested edit.
		panic(err)
	}
	return fs
}

// ptr returns a pointer to f's value in c: a *string, *Secret, *bool, *int,
// *int32, *float64, *time.Duration, *byteSize or *[]string.
func (f field) ptr(c *Config) any {
	p := reflect.ValueOf(c).Elem().FieldByIndex(f.index).Addr().Interface()
	if f.bytes {
		return (*byteSize)(p.(*int64))
	}
	return p
}

// at reports whether f is the field that p points at in c.
func (f field) at(c *Config, p any) bool {
	return reflect.ValueOf(f.ptr(c)).Pointer() == reflect.ValueOf(p).Pointer()
}

// fieldAt returns the field of fs that p, a pointer into c, points at, so that
// code can name a key by its Go field rather than write it again.
func fieldAt(fs []field, c *Config, p any) field {
	for _, f := range fs {
		if f.at(c, p) {
			return f
		}
	}
	panic(fmt.Sprintf("config: a %T that is not a field of the Config given", p))
}

// keyAt returns the key of the field that p, a pointer into c, points at.
func keyAt(c *Config, p any) string { return fieldAt(fields(), c, p).key }

// lookupField finds a field by its YAML key.
func lookupField(key string) (field, bool) {
	for _, f := range fields() {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// byteSize marks an int64 that holds bytes and accepts Kubernetes quantities.
type byteSize int64

// parseError is a value that could not be parsed; the caller turns it into a
// *ValidationError naming the key.
type parseError struct{ problem, fix string }

func (e *parseError) Error() string { return e.problem }

// set parses raw (a string or a list of strings) into the field of c.
func (f field) set(c *Config, raw any) error {
	if list, ok := f.ptr(c).(*[]string); ok {
		*list = toList(raw)
		if f.show == showHeaders {
			*list = joinHeaderValues(*list)
		}
		return nil
	}
	s, err := toScalar(raw)
	if err != nil {
		return err
	}
	return f.setString(c, s)
}

func (f field) setString(c *Config, s string) error {
	s = strings.TrimSpace(s)
	if f.enum {
		s = strings.ToLower(s)
	}
	switch p := f.ptr(c).(type) {
	case *string:
		*p = s
	case *Secret:
		*p = Secret(s)
	case *bool:
		return parseInto(p, s, parseBool, "is not a boolean", "use true or false")
	case *int:
		return parseInto(p, s, parseInt, "is not a whole number", "use a whole number, e.g. "+f.hint)
	case *int32:
		return parseInto(p, s, parseInt32, "is not a whole number", "use a whole number, e.g. "+f.hint)
	case *float64:
		if f.percent {
			s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
		}
		return parseInto(p, s, parseFloat, "is not a number", "use a number, e.g. "+f.hint)
	case *time.Duration:
		return parseInto(p, s, time.ParseDuration, "is not a duration", "use a number with a unit (s, m, h), e.g. "+f.hint)
	case *byteSize:
		return parseInto(p, s, parseByteSize, "is not a size", "use bytes or a quantity such as 512Mi, 16Gi or 500G, e.g. "+f.hint)
	case *[]string:
		*p = toList(s)
	default:
		return fmt.Errorf("config: field %s has unsupported type %T", f.key, p)
	}
	return nil
}

func parseInto[T any](dst *T, s string, parse func(string) (T, error), problem, fix string) error {
	v, err := parse(s)
	if err != nil {
		return &parseError{problem: problem, fix: fix}
	}
	*dst = v
	return nil
}

// format renders the field's value as it is written in YAML or in the
// environment (secrets in clear: never display this; see displayValue).
func (f field) format(c *Config) string {
	switch p := f.ptr(c).(type) {
	case *string:
		return *p
	case *Secret:
		return p.Reveal()
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *int32:
		return strconv.FormatInt(int64(*p), 10)
	case *float64:
		return strconv.FormatFloat(*p, 'f', -1, 64)
	case *time.Duration:
		return formatDuration(*p)
	case *byteSize:
		return formatByteSize(int64(*p))
	case *[]string:
		return strings.Join(*p, ",")
	default:
		return fmt.Sprint(p)
	}
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on", "t", "y":
		return true, nil
	case "false", "0", "no", "off", "f", "n":
		return false, nil
	}
	return false, strconv.ErrSyntax
}

func parseInt(s string) (int, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	return int(v), err
}

func parseInt32(s string) (int32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	return int32(v), err
}

func parseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		return 0, strconv.ErrSyntax
	}
	return v, err
}

func parseByteSize(s string) (byteSize, error) {
	v, err := ParseBytes(s)
	return byteSize(v), err
}

// formatDuration prints a duration without trailing zero units: 5m, 1h30m, 30s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// toScalar turns a value read from a layer into a string.
func toScalar(raw any) (string, error) {
	switch v := raw.(type) {
	case string:
		return v, nil
	case []string, []any:
		return "", &parseError{problem: "is a list", fix: "give a single value"}
	case nil:
		return "", nil
	default:
		return fmt.Sprint(v), nil
	}
}

// toList turns a list or a comma-separated string into trimmed, non-empty items.
func toList(raw any) []string {
	var items []string
	switch v := raw.(type) {
	case []string:
		items = v
	case []any:
		for _, x := range v {
			items = append(items, fmt.Sprint(x))
		}
	case string:
		items = strings.Split(strings.Trim(v, "[]"), ",")
	case nil:
	default:
		items = []string{fmt.Sprint(v)}
	}
	out := []string{}
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// joinHeaderValues puts back the commas of a header value that the split
// of a comma-separated list took apart ("anthropic-beta: a,b"): an item
// without a colon continues the previous header.
func joinHeaderValues(items []string) []string {
	var out []string
	for _, it := range items {
		if !strings.Contains(it, ":") && len(out) > 0 {
			out[len(out)-1] += "," + it
			continue
		}
		out = append(out, it)
	}
	return out
}

// KeyInfo describes one configuration key, for help text and documentation.
type KeyInfo struct {
	Key       string // YAML path under operations:
	EnvVar    string // environment variable, or ""
	Flag      string // command-line flag name without "--", or ""
	Alias     string // short name accepted by --update-threshold, or ""
	Default   string // built-in default as written in YAML ("" for none; state_dir is derived)
	Secret    bool   // displayed as ***
	Updatable bool   // may be changed with --update-threshold
}

// Keys lists every configuration key in display order.
func Keys() []KeyInfo {
	d := Defaults()
	var out []KeyInfo
	for _, f := range fields() {
		out = append(out, KeyInfo{Key: f.key, EnvVar: f.env, Flag: f.flag, Alias: f.alias,
			Default: f.format(&d), Secret: f.show == showSecret, Updatable: f.override})
	}
	return out
}
