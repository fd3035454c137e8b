package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEveryKeyIsDeclaredOnce proves the struct tags of Config are the single,
// consistent declaration of the keys: no key, alias, variable or flag is
// declared twice, every field has a key, and every exported struct field is
// reached by exactly one key.
func TestEveryKeyIsDeclaredOnce(t *testing.T) {
	fs, err := describe(reflect.TypeFor[Config]())
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	byAddr := map[uintptr]string{}
	for _, f := range fs {
		byAddr[reflect.ValueOf(f.ptr(&c)).Pointer()] = f.key
	}
	leaves := 0
	root := reflect.ValueOf(&c).Elem()
	for i := range root.NumField() {
		v, sf := root.Field(i), root.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		if v.Kind() != reflect.Struct {
			leaves++
			requireReached(t, byAddr, v, sf.Name)
			continue
		}
		for j := range v.NumField() {
			leaves++
			requireReached(t, byAddr, v.Field(j), sf.Name+"."+v.Type().Field(j).Name)
		}
	}
	if leaves != len(fs) || len(byAddr) != len(fs) {
		t.Errorf("%d struct fields, %d keys, %d distinct targets", leaves, len(fs), len(byAddr))
	}
}

func requireReached(t *testing.T, byAddr map[uintptr]string, v reflect.Value, name string) {
	t.Helper()
	if _, ok := byAddr[v.Addr().Pointer()]; !ok {
		t.Errorf("struct field %s has no key", name)
	}
}

func TestDescribeReadsTheTags(t *testing.T) {
	type section struct {
		Threshold float64       `yaml:"threshold" env:"THRESH" alias:"th" example:"80" config:"override,percent"`
		Mode      string        `yaml:"mode,omitempty" flag:"mode" example:"auto" config:"enum"`
		Endpoint  string        `yaml:"endpoint" example:"http://x" config:"url"`
		Token     Secret        `yaml:"token" example:"…"`
		Size      int64         `yaml:"size" example:"1Gi" config:"bytes"`
		Window    time.Duration `yaml:"window" example:"5m" config:"unused"`
		hidden    int
	}
	type doc struct {
		Section section `yaml:"section"`
		Dir     string  `yaml:"dir" env:"DIR" example:"/tmp"`
	}
	fs, err := describe(reflect.TypeFor[doc]())
	if err != nil {
		t.Fatal(err)
	}
	want := []field{
		{key: "section.threshold", env: "THRESH", alias: "th", override: true, percent: true, hint: "80", index: []int{0, 0}},
		{key: "section.mode", flag: "mode", enum: true, hint: "auto", index: []int{0, 1}},
		{key: "section.endpoint", show: showURL, hint: "http://x", index: []int{0, 2}},
		{key: "section.token", show: showSecret, hint: "…", index: []int{0, 3}},
		{key: "section.size", bytes: true, hint: "1Gi", index: []int{0, 4}},
		{key: "section.window", unused: true, hint: "5m", index: []int{0, 5}},
		{key: "dir", env: "DIR", hint: "/tmp", index: []int{1}},
	}
	if !reflect.DeepEqual(fs, want) {
		t.Errorf("describe =\n%+v\nwant\n%+v", fs, want)
	}
}

func TestDescribeRejectsWhatWouldLetTheKeysDrift(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"a key declared twice", reflect.TypeFor[struct {
			A struct {
				X int `yaml:"x" example:"1"`
				Y int `yaml:"x" example:"1"`
			} `yaml:"a"`
		}](), "A.Y: key a.x is declared twice (also by A.X)"},
		{"a section declared twice", reflect.TypeFor[struct {
			A struct {
				X int `yaml:"x" example:"1"`
			} `yaml:"a"`
			B struct {
				Y int `yaml:"y" example:"1"`
			} `yaml:"a"`
		}](), "B: key a is declared twice (also by A)"},
		{"a field without a key", reflect.TypeFor[struct {
			A struct {
				X int `env:"X" example:"1"`
			} `yaml:"a"`
		}](), "A.X: has no yaml tag naming its key"},
		{"a section without a key", reflect.TypeFor[struct {
			A struct {
				X int `yaml:"x" example:"1"`
			}
		}](), "field A: has no yaml tag"},
		{"a key with a dot", reflect.TypeFor[struct {
			X int `yaml:"a.x" example:"1"`
		}](), `key "a.x" contains a dot`},
		{"an environment variable declared twice", reflect.TypeFor[struct {
			X int `yaml:"x" env:"SAME" example:"1"`
			Y int `yaml:"y" env:"SAME" example:"1"`
		}](), "Y: environment variable SAME is declared twice"},
		{"a flag declared twice", reflect.TypeFor[struct {
			X int `yaml:"x" flag:"same" example:"1"`
			Y int `yaml:"y" flag:"same" example:"1"`
		}](), "Y: flag same is declared twice"},
		{"an alias that is another key", reflect.TypeFor[struct {
			X int `yaml:"x" example:"1"`
			Y int `yaml:"y" alias:"x" example:"1" config:"override"`
		}](), "Y: key x is declared twice"},
		{"an alias without override", reflect.TypeFor[struct {
			X int `yaml:"x" alias:"short" example:"1"`
		}](), "add the override option"},
		{"an unknown option", reflect.TypeFor[struct {
			X int `yaml:"x" example:"1" config:"overide"`
		}](), `unknown config option "overide"`},
		{"an option that does not fit the type", reflect.TypeFor[struct {
			X int `yaml:"x" example:"1" config:"percent"`
		}](), "percent option needs a float64"},
		{"an int64 that is not bytes", reflect.TypeFor[struct {
			X int64 `yaml:"x" example:"1"`
		}](), "type int64 is not supported"},
		{"a type the parser does not handle", reflect.TypeFor[struct {
			X uint `yaml:"x" example:"1"`
		}](), "type uint is not supported"},
		{"a field without an example", reflect.TypeFor[struct {
			X int `yaml:"x"`
		}](), "has no example tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := describe(tt.typ)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("describe error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
