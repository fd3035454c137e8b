package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1024", 1024, true},
		{"16Gi", 16 << 30, true},
		{"512Mi", 512 << 20, true},
		{"8G", 8e9, true},
		{"500G", 500e9, true},
		{"1.5Gi", 3 << 29, true},
		{"16GiB", 16 << 30, true},
		{"500GB", 500e9, true},
		{"1k", 1000, true},
		{"1K", 1000, true},
		{"1e9", 1e9, true},
		{" 2Ti ", 2 << 40, true},
		{"8Ei", 0, false},     // overflows int64
		{"0.5", 0, false},     // not a whole byte
		{"-1Gi", 0, false},    // negative
		{"16Gx", 0, false},    // unknown suffix
		{"100m", 0, false},    // milli-bytes make no sense
		{"", 0, false},        // empty
		{"Gi", 0, false},      // no number
		{"1.2.3Gi", 0, false}, // malformed number
		{"1e999", 0, false},   // overflows
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBytes(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseBytes(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestFormatBytesRoundTrips(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"}, {16 << 30, "16Gi"}, {500e9, "500G"}, {1536 << 20, "1536Mi"}, {1000, "1k"}, {1024, "1Ki"}, {1023, "1023"},
	}
	for _, tt := range tests {
		got := FormatBytes(tt.in)
		back, err := ParseBytes(got)
		if got != tt.want || err != nil || back != tt.in {
			t.Errorf("FormatBytes(%d) = %q (back %d, %v), want %q", tt.in, got, back, err, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "alpha", "EMPTY": "", "B_2": "beta"})
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"${A}", "alpha", true},
		{"x-${A}-${B_2}-y", "x-alpha-beta-y", true},
		{"${UNSET}", "", true},
		{"${UNSET:-dflt}", "dflt", true},
		{"${EMPTY:-dflt}", "dflt", true},
		{"${A:-dflt}", "alpha", true},
		{"${UNSET:-}", "", true},
		{"${UNSET:-a:b}", "a:b", true},
		{"$A and $ alone", "$A and $ alone", true},
		{"$${A}", "${A}", true},
		{"${A", "", false},
		{"${}", "", false},
		{"${1A}", "", false},
		{"${A B}", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expand(tt.in, env)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("expand(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, errExpand) {
				t.Errorf("err = %v, want errExpand", err)
			}
		})
	}
}

func TestDefaultsRoundTripThroughTheirTextForm(t *testing.T) {
	d := Defaults()
	for _, f := range fields() {
		var c Config
		s := f.format(&d)
		if err := f.setString(&c, s); err != nil {
			t.Errorf("%s: default %q does not parse: %v", f.key, s, err)
		}
		if got := f.format(&c); got != s {
			t.Errorf("%s: %q became %q", f.key, s, got)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 90 * time.Minute: "1h30m", 2 * time.Hour: "2h", 30 * time.Second: "30s",
		90 * time.Second: "1m30s", 1500 * time.Millisecond: "1.5s", 0: "0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestUnknownKeySuggestsTheClosest(t *testing.T) {
	_, err := loadWith(t, homeEnv(t, nil), "operations:\n  auto_scaling:\n    scale_up_treshold: 85\n")
	if !strings.Contains(err.Error(), "did you mean scale_up_threshold?") {
		t.Errorf("no suggestion in %v", err)
	}
}

func TestKeysDescribeEveryField(t *testing.T) {
	keys := Keys()
	if len(keys) != len(fields()) {
		t.Fatalf("%d keys for %d fields", len(keys), len(fields()))
	}
	byKey := map[string]KeyInfo{}
	for _, k := range keys {
		byKey[k.Key] = k
	}
	up := byKey["auto_scaling.scale_up_threshold"]
	if up.EnvVar != "SCALE_UP_THRESHOLD" || up.Default != "80" || up.Alias != "scale_up.cpu" || !up.Updatable {
		t.Errorf("scale_up_threshold = %+v", up)
	}
	if k := byKey["llm.api_key"]; !k.Secret || k.Updatable {
		t.Errorf("llm.api_key = %+v", k)
	}
	if k := byKey["agent.mode"]; k.Flag != "mode" || k.Default != "auto" {
		t.Errorf("agent.mode = %+v", k)
	}
}
