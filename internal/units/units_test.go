package units

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  bool
	}{
		{"8Gi", 8 << 30, false},
		{"512Mi", 512 << 20, false},
		{"1.5G", 1500000000, false},
		{"1048576", 1 << 20, false},
		{"16GiB", 16 << 30, false},
		{"", 0, true},
		{"-1Gi", 0, true},
		{"lots", 0, true},
		{"NaNGi", 0, true},
		{"1e30Pi", 0, true},
	}
	for _, c := range cases {
		got, err := ParseBytes(c.in)
		if c.err {
			if !errors.Is(err, ErrQuantity) {
				t.Errorf("ParseBytes(%q) err = %v, want ErrQuantity", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	if got := IBytes(4 << 30); got != "4Gi" {
		t.Errorf("IBytes(4Gi) = %q", got)
	}
	if got := IBytes(6657199308); got != "6.2Gi" {
		t.Errorf("IBytes = %q", got)
	}
	if got := Bytes(850e9); got != "850 GB" {
		t.Errorf("Bytes(850e9) = %q", got)
	}
	if got := Bytes(1e12); got != "1 TB" {
		t.Errorf("Bytes(1e12) = %q", got)
	}
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 3 * time.Minute: "3m", 150 * time.Second: "2m30s",
		65 * time.Minute: "1h5m", 76 * time.Hour: "3d4h", -2 * time.Minute: "-2m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestJSONDurationsCarryTheirUnit(t *testing.T) {
	type doc struct {
		For     Seconds `json:"forSeconds"`
		Latency Millis  `json:"latencyMs"`
	}
	tests := []struct {
		in   doc
		want string
	}{
		{doc{Seconds(5 * time.Minute), Millis(3 * time.Millisecond)}, `{"forSeconds":300,"latencyMs":3}`},
		{doc{Seconds(1500 * time.Millisecond), Millis(1984128 * time.Nanosecond)}, `{"forSeconds":1.5,"latencyMs":1.984}`},
		{doc{}, `{"forSeconds":0,"latencyMs":0}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("marshal %+v = %s, want %s", tt.in, b, tt.want)
		}
		var back doc
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if want := Seconds(tt.in.For.Duration().Round(time.Millisecond)); back.For != want {
			t.Errorf("round trip of %s: for = %v, want %v", b, back.For.Duration(), want.Duration())
		}
		if want := Millis(tt.in.Latency.Duration().Round(time.Microsecond)); back.Latency != want {
			t.Errorf("round trip of %s: latency = %v, want %v", b, back.Latency.Duration(), want.Duration())
		}
	}
}

func TestJSONDurationsRejectWhatIsNotANumber(t *testing.T) {
	var s Seconds
	for _, in := range []string{`"5m"`, `true`, `1e300`} {
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("unmarshal %s: no error", in)
		}
	}
}

// One grammar, two readings: a limit must be a whole number of bytes, a
// measured size is rounded to the nearest byte.
func TestExactAndMeasuredBytesShareOneGrammar(t *testing.T) {
	cases := []struct {
		in       string
		exact    int64 // -1: refused
		measured int64 // -1: refused
	}{
		{"16Gi", 16 << 30, 16 << 30},
		{"500GB", 500e9, 500e9},
		{"1e9", 1e9, 1e9},
		{"0.5Ki", 512, 512},
		{"1.3Ki", -1, 1331}, // 1331.2 bytes
		{"2.6Gi", -1, 2791728742},
		{"1.5", -1, 2},
		{"1e40", -1, -1},
		{"5 apples", -1, -1},
	}
	for _, c := range cases {
		got, err := ParseBytes(c.in)
		if (c.exact < 0) != (err != nil) || (err == nil && got != c.exact) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.exact)
		}
		got, err = ParseMeasuredBytes(c.in)
		if (c.measured < 0) != (err != nil) || (err == nil && got != c.measured) {
			t.Errorf("ParseMeasuredBytes(%q) = %d, %v; want %d", c.in, got, err, c.measured)
		}
	}
}

func TestExactIBytesReadsBackTheSameBytes(t *testing.T) {
	for _, b := range []int64{0, 1000, 1 << 10, 15 << 30, 13653 << 20, 1<<40 + 1<<20, 3 << 50} {
		s := ExactIBytes(b)
		got, err := ParseBytes(s)
		if err != nil || got != b {
			t.Errorf("ExactIBytes(%d) = %q, which reads back as %d, %v", b, s, got, err)
		}
	}
	if got := ExactIBytes(15 << 30); got != "15Gi" {
		t.Errorf("ExactIBytes(15Gi) = %q", got)
	}
}
