package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// The struct tags that declare a configuration key; Config documents them.
const (
	tagKey     = "yaml"
	tagEnv     = "env"
	tagFlag    = "flag"
	tagAlias   = "alias"
	tagExample = "example"
	tagOptions = "config"
)

// describe derives the fields of a configuration struct type from its tags:
// each exported struct-typed field of t is a section whose exported fields are
// keys, each other exported field a key. It fails, naming the Go field, when a
// field has no key or no example, when a key, section, alias, environment
// variable or flag is declared twice, and when an option is unknown or does
// not fit the field's type.
func describe(t reflect.Type) ([]field, error) {
	d := &declaration{owners: make(map[claimed]string, 256)}
	for i := range t.NumField() {
		sf := t.Field(i)
		switch {
		case !sf.IsExported():
		case sf.Type.Kind() == reflect.Struct:
			section := d.name(sf, sf.Name)
			d.claim(sf.Name, "key", section)
			for j := range sf.Type.NumField() {
				if leaf := sf.Type.Field(j); leaf.IsExported() {
					d.leaf(leaf, sf.Name+"."+leaf.Name, section, []int{i, j})
				}
			}
		default:
			d.leaf(sf, sf.Name, "", []int{i})
		}
	}
	return d.fields, errors.Join(d.errs...)
}

// declaration collects the fields of one struct type and what is wrong with
// their tags.
type declaration struct {
	fields []field
	owners map[claimed]string // the Go field that declared each name
	errs   []error
}

// claimed is a name a field declares: a key (or alias), variable or flag.
type claimed struct{ kind, name string }

func (d *declaration) fail(goName, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("config: field %s: %s", goName, fmt.Sprintf(format, args...)))
}

// name is the key a struct field declares, or "" (and an error) when none.
func (d *declaration) name(sf reflect.StructField, goName string) string {
	name, _, _ := strings.Cut(sf.Tag.Get(tagKey), ",")
	switch {
	case name == "" || name == "-":
		d.fail(goName, "has no %s tag naming its key", tagKey)
		return ""
	case strings.Contains(name, "."):
		d.fail(goName, "key %q contains a dot", name)
		return ""
	}
	return name
}

func (d *declaration) leaf(sf reflect.StructField, goName, section string, index []int) {
	name := d.name(sf, goName)
	if name == "" {
		return
	}
	f := field{key: joinKey(section, name), env: sf.Tag.Get(tagEnv), flag: sf.Tag.Get(tagFlag),
		alias: sf.Tag.Get(tagAlias), hint: sf.Tag.Get(tagExample), index: index}
	d.options(sf, goName, &f)
	d.check(sf.Type, goName, f)
	d.claim(goName, "key", f.key)
	d.claim(goName, "key", f.alias) // a short name must not read as another key
	d.claim(goName, "environment variable", f.env)
	d.claim(goName, "flag", f.flag)
	d.fields = append(d.fields, f)
}

// options applies the comma-separated options of the config tag.
func (d *declaration) options(sf reflect.StructField, goName string, f *field) {
	if sf.Type == reflect.TypeFor[Secret]() {
		f.show = showSecret
	}
	for opt := range strings.SplitSeq(sf.Tag.Get(tagOptions), ",") {
		switch strings.TrimSpace(opt) {
		case "":
		case "override":
			f.override = true
		case "percent":
			f.percent = true
		case "enum":
			f.enum = true
		case "bytes":
			f.bytes = true
		case "url":
			f.show = showURL
		case "headers":
			f.show = showHeaders
		case "unused":
			f.unused = true
		default:
			d.fail(goName, "unknown %s option %q", tagOptions, opt)
		}
	}
}

// check rejects the types the parser does not handle and options that do
// not fit the field's type.
func (d *declaration) check(t reflect.Type, goName string, f field) {
	str := reflect.TypeFor[string]()
	switch {
	case !supported(t, f.bytes):
		d.fail(goName, "type %s is not supported (an int64 of bytes needs the bytes option)", t)
	case f.percent && t != reflect.TypeFor[float64]():
		d.fail(goName, "the percent option needs a float64")
	case (f.enum || f.show == showURL) && t != str:
		d.fail(goName, "the enum and url options need a string")
	case f.show == showHeaders && t != reflect.TypeFor[[]string]():
		d.fail(goName, "the headers option needs a []string")
	case f.alias != "" && !f.override:
		d.fail(goName, "an alias is a name for --update-threshold: add the override option")
	case f.hint == "":
		d.fail(goName, "has no %s tag for error messages", tagExample)
	}
}

// supported reports whether the parser handles a field of type t.
func supported(t reflect.Type, bytes bool) bool {
	switch t {
	case reflect.TypeFor[int64]():
		return bytes
	case reflect.TypeFor[string](), reflect.TypeFor[Secret](), reflect.TypeFor[bool](),
		reflect.TypeFor[int](), reflect.TypeFor[int32](), reflect.TypeFor[float64](),
		reflect.TypeFor[time.Duration](), reflect.TypeFor[[]string]():
		return !bytes
	}
	return false
}

// claim records that the Go field goName declares name (a key, variable or
// flag), failing when another field declared it first.
func (d *declaration) claim(goName, kind, name string) {
	if name == "" {
		return
	}
	id := claimed{kind, name}
	if owner, taken := d.owners[id]; taken && owner != goName {
		d.fail(goName, "%s %s is declared twice (also by %s)", kind, name, owner)
		return
	}
	d.owners[id] = goName
}
